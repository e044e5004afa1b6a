/* Live preview of a schema being edited: an enhancement. Without this
   script, "Vérifier et prévisualiser" shows the same, page by page.
   Plain ES5 so that old browsers run it. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-apercu]");
  var area = document.getElementById("schema");
  var target = document.getElementById("apercu-vivant");
  var status = document.getElementById("apercu-etat");
  if (!form || !area || !target || !window.XMLHttpRequest) { return; }
  var timer = null, sent = 0;

  function refresh() {
    var request = new XMLHttpRequest(), number = (sent += 1);
    var token = form.querySelector("input[name=csrf_token]");
    request.open("POST", form.getAttribute("data-apercu"));
    request.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
    if (token) { request.setRequestHeader("X-CSRFToken", token.value); }
    request.onload = function () {
      // An older answer arriving late must not replace a newer one.
      if (number !== sent || request.status >= 500) { return; }
      target.innerHTML = request.responseText;
      status.textContent = decodeURIComponent(request.getResponseHeader("X-Apercu-Etat") || "");
    };
    request.send("schema=" + encodeURIComponent(area.value));
  }

  area.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 700);
  });
}());
