// The routing rule editor: condition and action rows whose pickers fit the field, a live dry
// run, saving with errors shown at their place, and the rule's history with diff and restore.
// Everything the user or the data supplies is inserted with textContent, never as HTML.
"use strict";

(function () {
  const api = window.switchboardApi;
  const data = JSON.parse(document.getElementById("editor-data").textContent);
  const language = data.language;
  const rule = data.rule;
  const fields = Object.fromEntries(language.fields.map((f) => [f.name, f]));
  const actionSpecs = Object.fromEntries(language.actions.map((a) => [a.type, a]));
  const GROUP_LABELS = { ticket: "Ticket", time: "Time", customer: "Customer", event: "Event" };
  const placeholderHelp = document.getElementById("template-placeholders");
  if (placeholderHelp && language.placeholders) {
    placeholderHelp.textContent =
      "Placeholders: " + language.placeholders.map((p) => `{{ ${p} }}`).join(", ") + ".";
  }

  const form = document.getElementById("rule-form");
  const status = document.getElementById("form-status");
  let rowCounter = 0;
  let dirty = false; // unsaved changes: leaving the page asks first

  // --- small DOM helpers ---------------------------------------------------------------------

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([key, value]) => {
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach((child) => node.appendChild(child));
    return node;
  }

  function option(value, label, selected) {
    const node = el("option", { value: value, text: label });
    node.selected = Boolean(selected);
    return node;
  }

  function labelled(labelText, control) {
    const id = `w${++rowCounter}`;
    control.id = id;
    return el("span", { className: "labelled" }, [
      el("label", { for: id, text: labelText }),
      control,
    ]);
  }

  function choicesFor(type, field) {
    if (type === "user") {
      return language.users.map((u) => [u.username, `${u.name} (${u.username})`]);
    }
    if (type === "department") return language.departments.map((d) => [d.slug, d.name]);
    if (type === "webhook") return language.webhooks.map((w) => [w, w]);
    if (field && field.choices && field.choices.length) return labelledChoices(field);
    return null;
  }

  // Choices are stored as their codes ("bug") and shown by their labels ("Bug report").
  function labelledChoices(spec) {
    const labels = spec.choice_labels || {};
    return spec.choices.map((c) => [c, labels[c] || c]);
  }

  // --- value widgets -------------------------------------------------------------------------

  // Builds the widget for a condition's value; returns {node, read()}.
  function valueWidget(field, operator, value) {
    if (!operator.takes_value) {
      return { node: el("span", { className: "no-value" }), read: () => undefined };
    }
    const choices = choicesFor(field.type, field);
    if (field.type === "bool") {
      const select = el("select", {}, [
        option("true", "yes", value === true),
        option("false", "no", value === false),
      ]);
      return { node: labelled("Value", select), read: () => select.value === "true" };
    }
    if (operator.list && choices) {
      const select = el("select", { multiple: true, size: Math.min(6, choices.length) });
      choices.forEach(([v, l]) => select.appendChild(option(v, l, (value || []).includes(v))));
      return {
        node: labelled("Values", select),
        read: () => Array.from(select.selectedOptions).map((o) => o.value),
      };
    }
    if (operator.list) {
      const input = el("input", { type: "text", placeholder: "comma, separated, words" });
      input.value = (value || []).join(", ");
      return {
        node: labelled("Values", input),
        read: () =>
          input.value
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
      };
    }
    if (choices) {
      const select = el("select", {}, [option("", "— choose —", value === undefined)]);
      choices.forEach(([v, l]) => select.appendChild(option(v, l, v === value)));
      return { node: labelled("Value", select), read: () => select.value || null };
    }
    if (field.type === "number") {
      const input = el("input", { type: "number", step: "any" });
      if (value !== undefined && value !== null) input.value = value;
      return {
        node: labelled("Value", input),
        read: () => (input.value === "" ? null : Number(input.value)),
      };
    }
    const input = el("input", { type: "text" });
    input.value = value === undefined || value === null ? "" : value;
    return { node: labelled("Value", input), read: () => input.value };
  }

  // --- condition rows ------------------------------------------------------------------------

  function fieldSelect(selected) {
    const select = el("select", { className: "field-picker" });
    Object.entries(GROUP_LABELS).forEach(([group, label]) => {
      const optgroup = el("optgroup", { label: label });
      language.fields
        .filter((f) => f.group === group)
        .forEach((f) => optgroup.appendChild(option(f.name, f.label, f.name === selected)));
      select.appendChild(optgroup);
    });
    return select;
  }

  function conditionRow(group, condition) {
    const row = el("div", { className: "row condition", "data-group": group });
    const fieldPicker = fieldSelect(condition && condition.field);
    const operatorPicker = el("select", { className: "operator-picker" });
    const valueHolder = el("span", { className: "value-holder" });
    const error = el("p", { className: "error" });
    let widget = null;

    function renderOperators(selectedOperator) {
      const field = fields[fieldPicker.value];
      operatorPicker.replaceChildren();
      field.operators.forEach((op) =>
        operatorPicker.appendChild(option(op.name, op.label, op.name === selectedOperator))
      );
    }

    function renderValue(value) {
      const field = fields[fieldPicker.value];
      const operator = field.operators.find((op) => op.name === operatorPicker.value);
      widget = valueWidget(field, operator, value);
      valueHolder.replaceChildren(widget.node);
    }

    fieldPicker.addEventListener("change", () => {
      renderOperators();
      renderValue();
    });
    operatorPicker.addEventListener("change", () => renderValue());

    const remove = el("button", { type: "button", className: "remove", text: "Remove" });
    remove.setAttribute("aria-label", "Remove condition");
    remove.addEventListener("click", () => {
      row.remove();
      dirty = true;
      changed();
    });

    row.append(
      labelled("Field", fieldPicker),
      labelled("Operator", operatorPicker),
      valueHolder,
      remove,
      error
    );
    renderOperators(condition && condition.operator);
    renderValue(condition && condition.value);
    row.read = () => {
      const item = { field: fieldPicker.value, operator: operatorPicker.value };
      const value = widget.read();
      if (value !== undefined) item.value = value;
      return item;
    };
    row.errorNode = error;
    return row;
  }

  // --- action rows ---------------------------------------------------------------------------

  function parameterWidget(parameter, value) {
    const choices = parameter.choices ? labelledChoices(parameter) : choicesFor(parameter.type);
    let control;
    if (choices) {
      control = el("select", {}, [option("", parameter.required ? "— choose —" : "—", !value)]);
      choices.forEach(([v, l]) => control.appendChild(option(v, l, v === value)));
    } else if (parameter.type === "template" && /body|message/.test(parameter.name)) {
      control = el("textarea", { rows: 2, "aria-describedby": "template-help" });
      control.value = value || "";
    } else if (parameter.type === "template") {
      control = el("input", { type: "text", "aria-describedby": "template-help" });
      control.value = value || "";
    } else {
      control = el("input", { type: parameter.type === "number" ? "number" : "text" });
      control.value = value === undefined || value === null ? "" : value;
    }
    const label = parameter.name.replace(/_/g, " ");
    return {
      node: labelled(label.charAt(0).toUpperCase() + label.slice(1), control),
      read: () => {
        if (control.value === "") return undefined;
        return parameter.type === "number" ? Number(control.value) : control.value;
      },
    };
  }

  function actionRow(action) {
    const row = el("div", { className: "row action" });
    const typePicker = el("select", { className: "action-picker" });
    language.actions.forEach((a) =>
      typePicker.appendChild(option(a.type, a.label, action && a.type === action.type))
    );
    const params = el("span", { className: "params" });
    const error = el("p", { className: "error" });
    let widgets = [];

    function render(values) {
      const spec = actionSpecs[typePicker.value];
      widgets = spec.parameters.map((parameter) => {
        const widget = parameterWidget(parameter, values && values[parameter.name]);
        widget.name = parameter.name;
        return widget;
      });
      params.replaceChildren(...widgets.map((w) => w.node));
    }
    typePicker.addEventListener("change", () => render());

    const remove = el("button", { type: "button", className: "remove", text: "Remove" });
    remove.setAttribute("aria-label", "Remove action");
    remove.addEventListener("click", () => {
      row.remove();
      dirty = true;
      changed();
    });
    row.append(labelled("Action", typePicker), params, remove, error);
    render(action);
    row.read = () => {
      const item = { type: typePicker.value };
      widgets.forEach((w) => {
        const value = w.read();
        if (value !== undefined) item[w.name] = value;
      });
      return item;
    };
    row.errorNode = error;
    return row;
  }

  // --- reading the form, showing errors --------------------------------------------------------

  const containers = {
    all: document.getElementById("conditions-all"),
    any: document.getElementById("conditions-any"),
    actions: document.getElementById("actions"),
  };

  function readRule() {
    const conditions = {};
    ["all", "any"].forEach((group) => {
      const rows = Array.from(containers[group].children).map((row) => row.read());
      if (rows.length) conditions[group] = rows;
    });
    return {
      name: document.getElementById("rule-name").value,
      description: document.getElementById("rule-description").value,
      trigger: document.getElementById("rule-trigger").value,
      is_active: document.getElementById("rule-active").checked,
      stop_processing: document.getElementById("rule-stop").checked,
      conditions: conditions,
      actions: Array.from(containers.actions.children).map((row) => row.read()),
    };
  }

  // Errors from a save stay until the field they belong to changes; errors from the dry run
  // are replaced by each dry run. Each map goes from the node showing the error to its text.
  let serverErrors = new Map();
  let previewErrors = new Map();

  function rowFor(place) {
    let match = place.match(/^conditions\.(all|any)\[(\d+)\]/);
    if (match) return containers[match[1]].children[Number(match[2])] || null;
    match = place.match(/^actions\[(\d+)\]/);
    if (match) return containers.actions.children[Number(match[1])] || null;
    return null;
  }

  function errorNodeFor(place) {
    const row = rowFor(place);
    if (row) return row;
    return (
      form.querySelector(`[data-error-for="${place.split(/[.[]/)[0]}"]`) ||
      document.getElementById("form-status")
    );
  }

  function errorMap(errors) {
    const found = new Map();
    Object.entries(errors || {}).forEach(([place, messages]) => {
      const text = [].concat(messages).join(" ");
      const node = errorNodeFor(place);
      const detail = rowFor(place) ? place.replace(/^[^\]]*\]\.?/, "") : "";
      found.set(node, [...(found.get(node) || []), detail ? `${detail}: ${text}` : text]);
    });
    return found;
  }

  function renderErrors() {
    form.querySelectorAll(".error").forEach((node) => (node.textContent = ""));
    form.querySelectorAll(".has-error").forEach((node) => node.classList.remove("has-error"));
    form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    [serverErrors, previewErrors].forEach((errors) =>
      errors.forEach((texts, node) => {
        if (!node.isConnected || node === status) return;
        const target = node.errorNode || node;
        const shown = target.textContent ? target.textContent.split(" · ") : [];
        texts.forEach((text) => {
          if (!shown.includes(text)) shown.push(text);
        });
        target.textContent = shown.join(" · ");
        if (node.errorNode) node.classList.add("has-error");
        const control = node.errorNode ? null : node.closest(".field");
        const input = control && control.querySelector("input, select, textarea");
        if (input) input.setAttribute("aria-invalid", "true");
      })
    );
  }

  // The node whose errors an edit of ``target`` may have fixed: its row, or its field.
  function errorOwner(target) {
    const row = target.closest(".row");
    if (row) return row;
    const field = target.closest(".field");
    return field ? field.querySelector(".error") : null;
  }

  function forgetErrorsOf(target) {
    const owner = errorOwner(target);
    if (owner && serverErrors.delete(owner)) renderErrors();
    // Errors about the whole list ("add an action") go once a row of that list changes.
    const list = target.closest("fieldset");
    const listError = list && list.querySelector(":scope > .error");
    if (listError && serverErrors.delete(listError)) renderErrors();
    if (owner && owner.closest && owner.closest("#conditions-all, #conditions-any")) {
      const conditionsError = form.querySelector('[data-error-for="conditions"]');
      if (serverErrors.delete(conditionsError)) renderErrors();
    }
    if (serverErrors.size === 0 && status.dataset.level === "error") {
      setStatus("Not saved yet.", "info");
    }
  }

  // Errors shown on the status line (a place the form has no field for) come with the status.
  function statusErrors() {
    return (serverErrors.get(status) || []).join(" ");
  }

  function setStatus(text, level) {
    api.setStatus(status, text, level);
  }

  // --- live dry run --------------------------------------------------------------------------

  const previewCount = document.getElementById("preview-count");
  const previewScopeText = document.getElementById("preview-scope-text");
  const previewActions = document.getElementById("preview-actions");
  const previewMatches = document.getElementById("preview-matches");
  const previewRange = document.getElementById("preview-range");
  const scopePicker = document.getElementById("preview-scope");
  const previewError = previewRange.querySelector('[data-error-for="preview"]');
  let previewTimer = null;
  let previewSequence = 0;

  function changed() {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(runPreview, 350);
  }

  // Which tickets to try: the last N, or those created between two dates (the end day
  // included), each sent as the API takes it.
  function previewRangeParams() {
    if (scopePicker.value === "last") {
      const last = Number(document.getElementById("preview-last").value);
      return { last: last || null };
    }
    const since = document.getElementById("preview-since").value;
    const until = document.getElementById("preview-until").value;
    const params = {};
    if (since) params.since = `${since}T00:00:00`;
    if (until) {
      const next = new Date(`${until}T00:00:00`);
      next.setDate(next.getDate() + 1);
      const pad = (n) => String(n).padStart(2, "0");
      params.until = `${next.getFullYear()}-${pad(next.getMonth() + 1)}-${pad(next.getDate())}T00:00:00`;
    }
    return params;
  }

  function showPreviewRangeErrors(errors) {
    const texts = ["last", "since", "until"]
      .filter((name) => errors && errors[name])
      .map((name) => `${name === "last" ? "How many" : name === "since" ? "From" : "To"}: ${[].concat(errors[name]).join(" ")}`);
    previewError.textContent = texts.join(" ");
    return texts.length > 0;
  }

  async function runPreview() {
    const draft = readRule();
    const sequence = ++previewSequence;
    previewCount.textContent = "…";
    const result = await api.call("POST", "/api/v1/rules/preview/", {
      trigger: draft.trigger,
      conditions: draft.conditions,
      actions: draft.actions,
      ...previewRangeParams(),
    });
    if (sequence !== previewSequence) return; // a newer preview is on its way
    previewMatches.replaceChildren();
    previewActions.replaceChildren();
    previewScopeText.textContent = "";
    delete previewCount.dataset.matched;
    if (!result.ok) {
      const rangeWrong = showPreviewRangeErrors(result.data);
      previewCount.textContent = rangeWrong
        ? "Choose which tickets to try it on."
        : "Complete the rule to see what it would match.";
      // Only the dry run's own errors are replaced; those of a save stay until fixed.
      previewErrors = rangeWrong ? new Map() : errorMap(result.data);
      renderErrors();
      return;
    }
    previewError.textContent = "";
    previewErrors = new Map();
    renderErrors();
    const body = result.data;
    previewCount.textContent = `Would match ${body.tickets_matched} of ${body.tickets_evaluated} tickets`;
    previewCount.dataset.matched = body.tickets_matched;
    previewScopeText.textContent = `Tried on ${body.scope}.`;
    body.by_action.forEach((action) => {
      const tickets = action.tickets === 1 ? "1 ticket" : `${action.tickets} tickets`;
      previewActions.appendChild(el("li", { text: `${action.text}: ${tickets}` }));
    });
    // The server sends the newest matches it lists (up to its limit); all of them are shown.
    body.matches.forEach((m) => {
      const link = el("a", { href: `/tickets/${m.ticket}/`, text: `${m.reference} ${m.subject}` });
      const effects = el(
        "ul",
        { className: "effects" },
        m.effects.map((effect) =>
          el("li", {
            className: effect.effective ? "effective" : "no-effect",
            text: effect.text,
            title: effect.label,
          })
        )
      );
      previewMatches.appendChild(
        el("li", {}, [link, el("span", { className: "muted", text: ` · ${m.customer}` }), effects])
      );
    });
    if (body.tickets_matched > body.matches.length) {
      const more = body.tickets_matched - body.matches.length;
      previewMatches.appendChild(el("li", { className: "muted more", text: `and ${more} more` }));
    }
  }

  scopePicker.addEventListener("change", () => {
    previewRange.querySelectorAll("[data-scope]").forEach((node) => {
      node.hidden = node.dataset.scope !== scopePicker.value;
    });
  });
  // The range is not part of the rule: changing it reruns the dry run, and is no unsaved edit.
  previewRange.addEventListener("input", (event) => {
    event.stopPropagation();
    changed();
  });
  previewRange.addEventListener("change", (event) => {
    event.stopPropagation();
    changed();
  });

  // --- unsaved changes -----------------------------------------------------------------------

  // An edit (an input event: typing, picking) may fix the errors of its field. A change event
  // alone (leaving a field typed in before the save) changes nothing: it only reruns the dry run.
  form.addEventListener("input", (event) => {
    dirty = true;
    forgetErrorsOf(event.target);
    changed();
  });
  form.addEventListener("change", changed);

  // Leaving with unsaved changes asks first (the browser words the question itself).
  window.addEventListener("beforeunload", (event) => {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";
  });

  // --- saving --------------------------------------------------------------------------------

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const draft = readRule();
    if (rule) draft.order = rule.order;
    setStatus("Saving…", "info");
    const result = rule
      ? await api.call("PUT", `/api/v1/rules/${rule.id}/`, draft)
      : await api.call("POST", "/api/v1/rules/", draft);
    if (result.ok) {
      dirty = false;
      setStatus(`Saved as version ${result.data.version}.`, "success");
      window.location.assign(`/rules/${result.data.id}/?saved=${result.data.version}`);
    } else {
      serverErrors = errorMap(result.data);
      renderErrors();
      const elsewhere = statusErrors();
      setStatus(
        elsewhere ? `Not saved: ${elsewhere}` : "Not saved: fix the errors shown.",
        "error"
      );
      const first = form.querySelector(".has-error select, .has-error input, [aria-invalid]");
      if (first) first.focus();
    }
  });

  // --- history -------------------------------------------------------------------------------

  const history = document.getElementById("history");
  if (history && rule) {
    history.addEventListener("click", async (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      const version = Number(button.dataset.version);
      if (button.classList.contains("show-diff")) {
        const result = await api.call(
          "GET",
          `/api/v1/rules/${rule.id}/diff/?from=${version}&to=${rule.version}`
        );
        const lines = (result.data || []).map((change) =>
          change.diff
            ? change.diff.join("\n")
            : `${change.field}: ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}`
        );
        document.getElementById("diff").textContent = lines.join("\n\n") || "No difference.";
      } else if (button.classList.contains("restore")) {
        const question =
          `Restore version ${version}? The rule will do again what it did then, ` +
          "saved as a new version" +
          (dirty ? "; your unsaved changes here will be lost." : ".");
        if (!window.confirm(question)) return;
        const result = await api.call("POST", `/api/v1/rules/${rule.id}/restore/`, {
          version: version,
        });
        if (result.ok) {
          dirty = false;
          window.location.assign(`/rules/${rule.id}/?saved=${result.data.version}`);
        } else {
          const messages = Object.values(result.data || {}).flat().join(" ");
          setStatus(`Not restored: ${messages || "the server refused."}`, "error");
        }
      }
    });
  }

  // --- start ---------------------------------------------------------------------------------

  const triggerPicker = document.getElementById("rule-trigger");
  language.triggers.forEach((t) =>
    triggerPicker.appendChild(option(t.value, t.label, rule ? rule.trigger === t.value : false))
  );
  document.querySelectorAll(".add-condition").forEach((button) =>
    button.addEventListener("click", () => {
      const row = conditionRow(button.dataset.group);
      containers[button.dataset.group].appendChild(row);
      row.querySelector("select").focus();
      dirty = true;
      changed();
    })
  );
  document.getElementById("add-action").addEventListener("click", () => {
    const row = actionRow();
    containers.actions.appendChild(row);
    row.querySelector("select").focus();
    dirty = true;
    changed();
  });

  if (rule) {
    document.getElementById("rule-name").value = rule.name;
    document.getElementById("rule-description").value = rule.description;
    document.getElementById("rule-active").checked = rule.is_active;
    document.getElementById("rule-stop").checked = rule.stop_processing;
    ["all", "any"].forEach((group) =>
      (rule.conditions[group] || []).forEach((c) =>
        containers[group].appendChild(conditionRow(group, c))
      )
    );
    rule.actions.forEach((a) => containers.actions.appendChild(actionRow(a)));
    const saved = new URLSearchParams(window.location.search).get("saved");
    if (saved) setStatus(`Saved as version ${saved}.`, "success");
    runPreview();
  }
})();
