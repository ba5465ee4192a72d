// Check entry: "use my location" fills latitude/longitude from the browser's geolocation (optional; works offline
// from the phone's GPS; nothing is sent anywhere but this form).
(function () {
  var button = document.getElementById("use-location");
  if (!button) { return; }
  var status = document.getElementById("location-status");
  var lat = document.getElementById("id_latitude");
  var lon = document.getElementById("id_longitude");
  if (!navigator.geolocation) { button.disabled = true; status.textContent = button.dataset.failed; return; }
  button.addEventListener("click", function () {
    status.textContent = button.dataset.busy;
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      lat.value = position.coords.latitude.toFixed(6);
      lon.value = position.coords.longitude.toFixed(6);
      status.textContent = button.dataset.done + "（±" + Math.round(position.coords.accuracy) + " m）";
      button.disabled = false;
    }, function () {
      status.textContent = button.dataset.failed;
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
