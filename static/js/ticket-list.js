// The ticket list's "select every ticket on this page" box for the bulk action, and the count of
// the tickets ticked on the Apply button, so the rep sees what the change will touch.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  const form = document.getElementById("bulk-form");
  const all = document.getElementById("select-all");
  if (!form || !all) {
    return;
  }
  const boxes = Array.from(document.querySelectorAll('input[name="tickets"][form="bulk-form"]'));
  const apply = form.querySelector("button[type=submit]");
  const label = apply.textContent;

  function update() {
    const ticked = boxes.filter(function (box) {
      return box.checked;
    }).length;
    all.checked = ticked > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
    apply.textContent = ticked ? label + " (" + ticked + ")" : label;
  }

  all.addEventListener("change", function () {
    boxes.forEach(function (box) {
      box.checked = all.checked;
    });
    update();
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", update);
  });
  update();
});
