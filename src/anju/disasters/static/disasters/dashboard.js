// Disaster event dashboard: per division, reported / resettled / appraised / C-D / rebuilt as grouped bars.
(function () {
  var el = document.getElementById("dashboard-chart");
  var data = document.getElementById("dashboard-data");
  if (!el || !data || typeof echarts === "undefined") { return; }
  var chart = JSON.parse(data.textContent);
  var keys = ["reported", "resettled", "appraised", "dangerous", "rebuilt"];
  var colours = ["#dc3545", "#198754", "#0d6efd", "#fd7e14", "#6f42c1"];
  var instance = echarts.init(el, null, { renderer: "svg" });
  instance.setOption({
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, data: keys.map(function (k) { return chart.labels[k]; }) },
    grid: { left: 40, right: 10, bottom: 50, top: 40 },
    xAxis: { type: "category", data: chart.names, axisLabel: { rotate: chart.names.length > 6 ? 40 : 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: keys.map(function (k, i) {
      return { name: chart.labels[k], type: "bar", data: chart.series[k], itemStyle: { color: colours[i] } };
    })
  });
  window.addEventListener("resize", function () { instance.resize(); });
})();
