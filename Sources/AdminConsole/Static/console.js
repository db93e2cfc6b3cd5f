// Conveniences only: every page works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Select-all checkboxes: data-select-all names the checkboxes it ticks.
  for (const all of document.querySelectorAll("[data-select-all]")) {
    const name = all.dataset.selectAll;
    const form = all.form || document;
    const boxes = () => form.querySelectorAll(`input[type=checkbox][name="${name}"]`);
    all.addEventListener("change", () => { for (const box of boxes()) if (!box.closest("[hidden]")) box.checked = all.checked; });
  }
  // A form whose button says data-once is sent once: a second click while it is on its way does nothing
  // (the server would recharge once anyway: the form carries an idempotency key).
  for (const button of document.querySelectorAll("button[data-once]")) {
    button.form.addEventListener("submit", () => setTimeout(() => { button.disabled = true; }, 0));
  }
  // Copy buttons: data-copy is the id of the element whose text is copied.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent;
      try { await navigator.clipboard.writeText(text); button.textContent = "Copied"; }
      catch { const range = document.createRange(); range.selectNodeContents(document.getElementById(button.dataset.copy));
        const selection = getSelection(); selection.removeAllRanges(); selection.addRange(range); button.textContent = "Selected: press Ctrl+C"; }
    });
  }
  // Filter a list of checkboxes (the rate's extension picker) as one types.
  for (const input of document.querySelectorAll("input[data-filter]")) {
    const list = document.getElementById(input.dataset.filter);
    input.addEventListener("input", () => {
      const needle = input.value.trim().toLowerCase();
      for (const item of list.querySelectorAll("[data-text]")) item.hidden = needle !== "" && !item.dataset.text.includes(needle);
    });
  }
  // Confirm a destructive form before it is sent (the server asks again on a page of its own without script).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!confirm(form.dataset.confirm)) { event.preventDefault(); return; }
      const confirmed = document.createElement("input");
      confirmed.type = "hidden"; confirmed.name = "confirmed"; confirmed.value = "yes";
      form.append(confirmed);
    });
  }
  // Live calls: the table follows the server's events.
  const live = document.getElementById("live-calls");
  if (live && window.EventSource) {
    const source = new EventSource(live.dataset.events);
    const body = live.querySelector("tbody");
    const count = document.getElementById("live-count");
    const template = document.getElementById("live-row");
    source.addEventListener("calls", (event) => {
      const data = JSON.parse(event.data);
      count.textContent = data.total;
      const rows = [];
      for (const call of data.calls) {
        const row = template.content.firstElementChild.cloneNode(true);
        for (const cell of row.querySelectorAll("[data-field]")) cell.textContent = call[cell.dataset.field] ?? "";
        for (const input of row.querySelectorAll("input[data-call]")) input.value = call.callId;
        const link = row.querySelector("a[data-hangup]");
        if (link) link.href = "/live/" + encodeURIComponent(call.callId) + "/hangup";
        rows.push(row);
      }
      body.replaceChildren(...rows);
      if (data.calls.length === 0) {
        const empty = document.createElement("tr");
        const cell = document.createElement("td"); cell.colSpan = 8; cell.textContent = "No call in progress.";
        empty.append(cell); body.append(empty);
      }
    });
  }
});
