// The reply composer: "Start from a template" offers the reply templates, filled in for this
// ticket by the server, as the rep types; picking one from the list, or Enter on its name (or
// on part of it, when only one name holds it), puts its text in the reply.
"use strict";

(function () {
  document.addEventListener("DOMContentLoaded", function () {
    const picker = document.getElementById("reply-template");
    const body = document.getElementById("id_reply_body");
    const list = document.getElementById("reply-template-names");
    const hint = document.getElementById("reply-template-hint");
    if (!picker || !body || !list || !hint) {
      return;
    }
    let templates = null;

    function load() {
      if (templates !== null) {
        return Promise.resolve(templates);
      }
      return fetch(picker.dataset.templatesUrl, { credentials: "same-origin" })
        .then(function (response) {
          return response.ok ? response.json() : { templates: [] };
        })
        .then(function (data) {
          templates = data.templates;
          list.replaceChildren();
          templates.forEach(function (template) {
            const option = document.createElement("option");
            option.value = template.name;
            list.appendChild(option);
          });
          return templates;
        });
    }

    function named(text, { partly }) {
      // The template whose name is the text (any case); with ``partly``, else the only one
      // whose name holds it.
      const wanted = text.trim().toLowerCase();
      if (!wanted) {
        return null;
      }
      const all = templates || [];
      const exact = all.filter(function (template) {
        return template.name.toLowerCase() === wanted;
      });
      if (exact.length === 1 || !partly) {
        return exact.length === 1 ? exact[0] : null;
      }
      const partial = all.filter(function (template) {
        return template.name.toLowerCase().includes(wanted);
      });
      if (partial.length !== 1) {
        hint.textContent = partial.length
          ? partial.length + " templates match: type more of the name."
          : "No template is called that.";
      }
      return partial.length === 1 ? partial[0] : null;
    }

    function insert(chosen) {
      body.value = body.value.trim() ? body.value.replace(/\s*$/, "\n\n") + chosen.body : chosen.body;
      picker.value = "";
      hint.textContent = "";
      body.focus();
      body.setSelectionRange(body.value.length, body.value.length);
    }

    picker.addEventListener("focus", load);
    picker.addEventListener("input", function (event) {
      hint.textContent = "";
      // Picked from the list, the text is replaced at once: that is a choice. Typed, it is
      // not yet one ("Closing" on the way to "Closing with survey"): Enter makes it one.
      if (event.inputType && event.inputType !== "insertReplacementText") {
        return;
      }
      load().then(function () {
        const chosen = named(picker.value, { partly: false });
        if (chosen) {
          insert(chosen);
        }
      });
    });
    picker.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        load().then(function () {
          const chosen = named(picker.value, { partly: true });
          if (chosen) {
            insert(chosen);
          }
        });
      }
    });
  });
})();
