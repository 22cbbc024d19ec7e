// Check-in forms marked data-locate send the phone's position when the browser gives it.
// Without permission (or after 8 s) the form goes without; the server decides whether the
// point needs a location and says so.
(function () {
  document.querySelectorAll("form[data-locate]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.located || !navigator.geolocation) return;
      event.preventDefault();
      var button = form.querySelector("button");
      if (button) button.disabled = true;
      var send = function () {
        form.dataset.located = "1";
        form.submit();
      };
      navigator.geolocation.getCurrentPosition(
        function (position) {
          form.elements.latitude.value = position.coords.latitude.toFixed(6);
          form.elements.longitude.value = position.coords.longitude.toFixed(6);
          send();
        },
        send,
        { enableHighAccuracy: true, timeout: 8000, maximumAge: 30000 }
      );
    });
  });
})();
