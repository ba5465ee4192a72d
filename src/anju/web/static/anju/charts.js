// Grade chart on the home page: houses by grade for each child division (stacked bars).
(function () {
  var el = document.getElementById("grade-chart");
  var data = document.getElementById("chart-data");
  if (!el || !data || typeof echarts === "undefined") { return; }
  var chart = JSON.parse(data.textContent);
  var colors = { "A级": "#198754", "B级": "#ffc107", "C级": "#fd7e14", "D级": "#dc3545", "未鉴定": "#adb5bd" };
  var instance = echarts.init(el, null, { renderer: "svg" });
  instance.setOption({
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, type: "scroll" },
    grid: { left: 50, right: 10, bottom: 60, top: 60 },
    xAxis: { type: "category", data: chart.names, axisLabel: { rotate: chart.names.length > 8 ? 40 : 0 } },
    yAxis: { type: "value", name: "房屋（栋）" },
    series: chart.series.map(function (s) {
      return { name: s.name, type: "bar", stack: "grade", data: s.data, itemStyle: { color: colors[s.name] } };
    })
  });
  window.addEventListener("resize", function () { instance.resize(); });
})();

// Funds chart (P4): approved vs paid subsidy per county (grouped bars).
(function () {
  var el = document.getElementById("funds-chart");
  var data = document.getElementById("funds-chart-data");
  if (!el || !data || typeof echarts === "undefined") { return; }
  var chart = JSON.parse(data.textContent);
  var instance = echarts.init(el, null, { renderer: "svg" });
  instance.setOption({
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0 },
    grid: { left: 80, right: 10, bottom: 60, top: 60 },  // room for the unit under the legend
    xAxis: { type: "category", data: chart.names, axisLabel: { rotate: chart.names.length > 8 ? 40 : 0 } },
    yAxis: { type: "value", name: chart.unit },
    series: chart.series.map(function (s, i) {
      return { name: s.name, type: "bar", data: s.data, itemStyle: { color: i === 0 ? "#0d6efd" : "#198754" } };
    })
  });
  window.addEventListener("resize", function () { instance.resize(); });
})();
