// The report form's "use my location" button: fills latitude and longitude from the phone.
(function () {
  var button = document.getElementById("locate");
  if (!button || !navigator.geolocation) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (position) {
      document.querySelector("[name=latitude]").value = position.coords.latitude.toFixed(6);
      document.querySelector("[name=longitude]").value = position.coords.longitude.toFixed(6);
    });
  });
})();
