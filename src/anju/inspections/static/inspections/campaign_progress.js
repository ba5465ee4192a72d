// Campaign detail: check coverage (%) of each child division as bars, with checked / unchecked in the tooltip.
(function () {
  var el = document.getElementById("progress-chart");
  var data = document.getElementById("progress-data");
  if (!el || !data || typeof echarts === "undefined") { return; }
  var chart = JSON.parse(data.textContent);
  var t = chart.labels;  // translated on the server
  var instance = echarts.init(el, null, { renderer: "svg" });
  instance.setOption({
    tooltip: {
      trigger: "axis",
      axisPointer: { type: "shadow" },
      formatter: function (items) {
        var i = items[0].dataIndex;
        return chart.names[i] + "<br>" + t.coverage + " " + chart.coverage[i] + "%<br>" +
          t.checked + " " + chart.checked[i] + t.unit + "，" + t.unchecked + " " + chart.unchecked[i] + t.unit;
      }
    },
    grid: { left: 50, right: 10, bottom: 60, top: 30 },
    xAxis: { type: "category", data: chart.names, axisLabel: { rotate: chart.names.length > 8 ? 40 : 0 } },
    yAxis: { type: "value", name: t.axis, min: 0, max: 100 },
    series: [{
      name: t.coverage,
      type: "bar",
      data: chart.coverage.map(function (v) {
        return { value: v, itemStyle: { color: v >= 100 ? "#198754" : v >= 60 ? "#0d6efd" : "#fd7e14" } };
      }),
      label: { show: chart.names.length <= 15, position: "top", formatter: "{c}%" }
    }]
  });
  window.addEventListener("resize", function () { instance.resize(); });
})();
