// Log a call: find the customer as the rep types, load their contacts and standing, one key per
// kind, and show the return and resolution fields only when they apply. Everything shown from
// the server is either escaped HTML rendered by Django or set as text, never built from strings.
"use strict";

(function () {
  const form = document.getElementById("call-form");
  if (!form) {
    return;
  }
  const query = document.getElementById("id_customer_query");
  const customerId = form.querySelector("input[name=customer]");
  const options = document.getElementById("customer-options");
  const contact = document.getElementById("id_contact");
  const standing = document.getElementById("standing");
  const kindKeys = { c: "call", b: "bug", r: "rfe", m: "rma" };
  let results = [];
  let active = -1;
  let lookupTimer = null;
  let lookupSeq = 0;
  let customerSeq = 0; // the standing and contacts shown are those of the latest choice

  // --- the customer combobox ---------------------------------------------------------------

  function closeOptions() {
    options.hidden = true;
    query.setAttribute("aria-expanded", "false");
    query.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function showOptions() {
    options.replaceChildren();
    results.forEach(function (result, index) {
      const item = document.createElement("li");
      item.id = "customer-option-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", index === active ? "true" : "false");
      const name = document.createElement("strong");
      name.textContent = result.name;
      item.append(name);
      if (result.via) {
        const via = document.createElement("span");
        via.className = "muted";
        via.textContent = " · " + result.via;
        item.append(via);
      }
      item.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the input
        choose(index);
      });
      options.append(item);
    });
    if (results.length === 0 && query.value.trim().length >= 2) {
      const none = document.createElement("li");
      none.className = "muted";
      none.textContent = "No customer matches.";
      options.append(none);
    }
    options.hidden = options.children.length === 0;
    query.setAttribute("aria-expanded", options.hidden ? "false" : "true");
    if (active >= 0) {
      query.setAttribute("aria-activedescendant", "customer-option-" + active);
    }
  }

  async function lookup() {
    const text = query.value.trim();
    const seq = ++lookupSeq;
    if (text.length < 2) {
      results = [];
      closeOptions();
      return;
    }
    const url = form.dataset.lookupUrl + "?q=" + encodeURIComponent(text);
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok || seq !== lookupSeq) {
      return; // a later keystroke's answer wins
    }
    results = (await response.json()).results;
    active = results.length ? 0 : -1;
    showOptions();
  }

  function choose(index) {
    const result = results[index];
    if (!result) {
      return;
    }
    query.value = result.name;
    customerId.value = String(result.customer);
    closeOptions();
    loadCustomer(result.customer, result.contact);
  }

  query.addEventListener("input", function () {
    if (customerId.value) {
      customerId.value = "";
      customerSeq++; // answers still on their way are for the customer no longer chosen
      standing.replaceChildren();
      const hint = document.createElement("p");
      hint.className = "muted";
      hint.textContent = "Find the customer to see their contract, invoices and open tickets.";
      standing.append(hint);
    }
    window.clearTimeout(lookupTimer);
    lookupTimer = window.setTimeout(lookup, 150);
  });

  query.addEventListener("keydown", async function (event) {
    if (options.hidden && event.key === "ArrowDown" && results.length) {
      showOptions();
      event.preventDefault();
      return;
    }
    if (options.hidden && event.key === "Enter" && !customerId.value) {
      // Typed fast, before the matches arrived: look up now and take the first, rather than
      // submit a call with no customer.
      event.preventDefault();
      window.clearTimeout(lookupTimer);
      await lookup();
      if (results.length) {
        choose(0);
      }
      return;
    }
    if (options.hidden) {
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + results.length) % results.length;
      showOptions();
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Tab" && active >= 0 && !customerId.value) {
      choose(active); // Tab takes the highlighted customer and moves on, as in a spreadsheet
    } else if (event.key === "Escape") {
      closeOptions();
    }
  });

  query.addEventListener("blur", function () {
    window.setTimeout(closeOptions, 100);
  });

  // --- contacts and the standing panel -----------------------------------------------------

  async function loadContacts(customer, selected, seq) {
    const response = await fetch("/api/v1/contacts/?page_size=200&customer=" + customer, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok || seq !== customerSeq) {
      return;
    }
    const contacts = (await response.json()).results;
    const keep = [contact.options[0], contact.options[contact.options.length - 1]];
    contact.replaceChildren(keep[0]);
    contacts.forEach(function (person) {
      const option = document.createElement("option");
      option.value = String(person.id);
      option.textContent = person.name + (person.phone ? " · " + person.phone : "");
      contact.append(option);
    });
    contact.append(keep[1]);
    contact.value = selected ? String(selected) : contacts.length === 1 ? String(contacts[0].id) : "";
    toggleNewContact();
  }

  async function loadStanding(customer, seq) {
    const url = form.dataset.standingUrl.replace("/0/", "/" + customer + "/") + "?linkable=1";
    const response = await fetch(url, { credentials: "same-origin" });
    const html = response.ok ? await response.text() : null;
    if (html === null || seq !== customerSeq) {
      return;
    }
    standing.innerHTML = html; // Django-rendered, escaped
    const checked = (form.dataset.related || "").split(",");
    standing.querySelectorAll("input[name=related]").forEach(function (box) {
      box.checked = checked.includes(box.value);
    });
  }

  function loadCustomer(customer, selectedContact) {
    const seq = ++customerSeq;
    loadStanding(customer, seq);
    loadContacts(customer, selectedContact, seq);
  }

  // --- sections that depend on a choice ----------------------------------------------------

  function toggleNewContact() {
    document.getElementById("new-contact").hidden = contact.value !== "new";
  }

  function selectedKind() {
    const checked = form.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "";
  }

  function toggleKindSections() {
    document.getElementById("rma-details").hidden = selectedKind() !== "rma";
  }

  function toggleResolution() {
    const resolved = document.getElementById("id_resolved_during_call");
    document.getElementById("resolution-details").hidden = !resolved.checked;
  }

  contact.addEventListener("change", toggleNewContact);
  form.addEventListener("change", function (event) {
    if (event.target.name === "kind") {
      toggleKindSections();
    } else if (event.target.name === "resolved_during_call") {
      toggleResolution();
    }
  });

  // One keystroke per kind while the kind group has the focus.
  document.getElementById("kind-group").addEventListener("keydown", function (event) {
    const kind = kindKeys[event.key.toLowerCase()];
    if (!kind || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    const radio = form.querySelector('input[name=kind][value="' + kind + '"]');
    radio.checked = true;
    radio.focus();
    toggleKindSections();
    event.preventDefault();
  });

  // After a refused save the customer is known: show their standing again, and take the
  // keyboard to the first field in error.
  if (customerId.value) {
    loadStanding(customerId.value, ++customerSeq);
  }
  toggleKindSections();
  const invalid = form.querySelector("[aria-invalid=true]");
  if (invalid) {
    const target = invalid.matches("fieldset") ? invalid.querySelector("input") : invalid;
    target.focus();
  }
})();
