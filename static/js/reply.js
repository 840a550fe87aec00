// The reply composer: "Start from a template" offers the reply templates, filled in for this
// ticket by the server, as the rep types; choosing one puts its text in the reply.
"use strict";

(function () {
  document.addEventListener("DOMContentLoaded", function () {
    const picker = document.getElementById("reply-template");
    const body = document.getElementById("id_reply_body");
    const list = document.getElementById("reply-template-names");
    if (!picker || !body || !list) {
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

    function choose() {
      const chosen = (templates || []).find(function (template) {
        return template.name === picker.value;
      });
      if (!chosen) {
        return;
      }
      body.value = body.value.trim() ? body.value.replace(/\s*$/, "\n\n") + chosen.body : chosen.body;
      picker.value = "";
      body.focus();
      body.setSelectionRange(body.value.length, body.value.length);
    }

    picker.addEventListener("focus", load);
    picker.addEventListener("input", function () {
      load().then(choose);
    });
    picker.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        load().then(choose);
      }
    });
  });
})();
