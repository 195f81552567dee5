// The attendance list: "Tick everyone shown" for the ticking itself; the form still posts the ticked ids.
// Progressive: without this script the button stays hidden and each box is ticked by hand.
(function () {
  var button = document.querySelector("[data-tick-all]");
  if (!button) return;
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[type="checkbox"][name="attended"]'));
  if (!boxes.length) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var tick = boxes.some(function (box) { return !box.checked; });
    boxes.forEach(function (box) { box.checked = tick; });
    button.textContent = tick ? "Untick everyone shown" : "Tick everyone shown";
  });
})();
