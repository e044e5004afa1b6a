/* Show a conditional field only when its condition holds.
   An enhancement: without this script every field shows, each with a hint
   saying when it applies, and the server checks the conditions exactly.
   Plain ES5 so that old browsers run it. */
(function () {
  "use strict";
  if (!document.querySelectorAll || !window.JSON) { return; }

  function answers(name) {
    var inputs = document.getElementsByName(name), out = [], i, el;
    for (i = 0; i < inputs.length; i += 1) {
      el = inputs[i];
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { out.push(el.value); }
      } else if (el.value !== "") {
        out.push(el.value);
      }
    }
    return out;
  }

  function holds(condition) {
    var given = answers(condition.champ), hit = false, i;
    if (condition.valeurs === null) {
      hit = given.length > 0;
    } else {
      for (i = 0; i < given.length; i += 1) {
        if (condition.valeurs.indexOf(given[i]) !== -1) { hit = true; }
      }
    }
    return condition.sauf ? !hit : hit;
  }

  function update() {
    var blocks = document.querySelectorAll("[data-conditions]"), i, j, shown, list;
    for (i = 0; i < blocks.length; i += 1) {
      list = JSON.parse(blocks[i].getAttribute("data-conditions"));
      shown = false;
      for (j = 0; j < list.length; j += 1) {
        if (holds(list[j])) { shown = true; }
      }
      blocks[i].hidden = !shown;
      if (!shown) { unchoose(blocks[i]); }
    }
  }

  /* A choice that the current answers do not offer cannot stay chosen:
     the server would refuse it. Only choices are cleared; a hidden field
     keeps what was typed in case its condition comes back. */
  function unchoose(block) {
    var inputs, k;
    if (block.tagName === "OPTION") {
      if (block.selected) { block.parentNode.value = ""; }
      return;
    }
    if ((" " + block.className + " ").indexOf(" option ") === -1) { return; }
    inputs = block.getElementsByTagName("input");
    for (k = 0; k < inputs.length; k += 1) { inputs[k].checked = false; }
  }

  document.addEventListener("change", update);
  document.addEventListener("input", update);
  update();
}());
