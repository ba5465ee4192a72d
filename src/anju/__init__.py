"""安居 anju — rural housing safety assurance."""
