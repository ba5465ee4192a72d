"""Reads on inspections; each starts from `.visible_to(actor)` or from a campaign already scoped."""

from __future__ import annotations

from django.db.models import QuerySet

from anju.core.scope import scope_q
from anju.policy.models import Alert, AlertStatus
from anju.registry.models import Household

from .models import Campaign, CheckRecord, TargetSet

MONITORING_RULE = "P7.monitoring"  # the policy rule whose open alerts are the monitoring list


def campaign_targets(campaign: Campaign) -> QuerySet[Household]:
    """The households a campaign must check (P5: all in its subtree; P9 special checks: the P7 list)."""
    prefix = campaign.division.prefix
    households = Household.objects.filter(scope_q("division_id", prefix))
    if campaign.target_set == TargetSet.MONITORING:
        listed = Alert.objects.filter(
            scope_q("division_id", prefix), rule_id=MONITORING_RULE, status=AlertStatus.OPEN
        ).values("household_id")
        households = households.filter(pk__in=listed)
    return households


def campaign_unchecked(campaign: Campaign) -> QuerySet[Household]:
    """Targets without a check record in this campaign: the 'late' ones once the campaign has ended (P5)."""
    checked = CheckRecord.objects.filter(campaign=campaign).values("household_id")
    return campaign_targets(campaign).exclude(pk__in=checked)
