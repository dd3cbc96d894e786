/* The technician app on a weak signal.
 *
 * - Taps (forms with data-queue: On my way, Start, Complete) are put in a queue in localStorage,
 *   each with its own idempotency key (crypto.randomUUID), and sent in order when online; a
 *   network failure keeps them for the next try (the 'online' event, and every 15 s). The server
 *   applies each key once, so a retry after a lost answer does nothing twice.
 * - The completion form (data-draft) saves what is typed and drawn as it changes and restores it
 *   after a reload; the draft is dropped once the completion is queued.
 * - The signature canvas draws with pointer events and keeps a PNG data URL in a hidden field.
 * - The service worker (/tech/sw.js) keeps the pages opened today for when there is no signal.
 * Without JavaScript every form still posts normally.
 */
(function () {
  "use strict";

  const QUEUE_KEY = "dn-tech-queue";
  const RETRY_MS = 15000;
  let sending = false;

  // --- service worker ---------------------------------------------------------------------
  const me = document.currentScript;
  if ("serviceWorker" in navigator && me && me.dataset.sw) {
    navigator.serviceWorker.register(me.dataset.sw, { scope: "/tech/" }).catch(() => {});
  }

  // --- queue ------------------------------------------------------------------------------
  function load() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; }
  }
  function save(queue) { localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function csrfToken() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function enqueue(form) {
    const fields = [];
    new FormData(form).forEach((value, name) => {
      if (name !== "key" && typeof value === "string") fields.push([name, value]);
    });
    const entry = {
      key: newKey(),
      url: form.getAttribute("action"),
      kind: form.dataset.queue,
      visit: form.dataset.visitId,
      fields: fields,
      at: new Date().toISOString(),
    };
    const queue = load();
    queue.push(entry);
    save(queue);
    return entry;
  }

  function setNote(text, isError) {
    const banner = document.querySelector("[data-queue-banner]");
    const label = document.querySelector("[data-queue-text]");
    if (!banner || !label) return;
    const n = load().length;
    let message = "";
    if (n) message = n === 1 ? "1 change waiting to send" : n + " changes waiting to send";
    if (n && !navigator.onLine) message += " (offline)";
    if (text) message = message ? text + " · " + message : text;
    label.textContent = message;
    banner.hidden = !message;
    banner.classList.toggle("error", Boolean(isError));
    const retry = document.querySelector("[data-queue-retry]");
    if (retry) retry.hidden = !n;
  }

  function showNet() {
    const net = document.querySelector("[data-net]");
    if (!net) return;
    net.classList.toggle("offline", !navigator.onLine);
    net.querySelector("[data-net-label]").textContent = navigator.onLine ? "Online" : "Offline";
    setNote();
  }

  async function flush() {
    if (sending || !navigator.onLine) { setNote(); return; }
    sending = true;
    let sent = 0;
    let problem = "";
    try {
      for (;;) {
        const queue = load();
        if (!queue.length) break;
        const entry = queue[0];
        const body = new URLSearchParams(entry.fields);
        body.set("key", entry.key);
        let response;
        try {
          response = await fetch(entry.url, {
            method: "POST",
            body: body,
            credentials: "same-origin",
            headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
          });
        } catch (e) {
          break; // no signal: keep it for the next try
        }
        if (response.redirected && response.url.indexOf("/accounts/login/") !== -1) {
          problem = "Sign in again to send your changes.";
          break;
        }
        if (response.status >= 500 || response.status === 403 || response.status === 429) break;
        let data = {};
        try { data = await response.json(); } catch (e) { data = {}; }
        save(load().filter((e) => e.key !== entry.key));
        if (response.ok) {
          sent += 1;
          if (entry.kind === "complete") localStorage.removeItem("dn-draft-visit-" + entry.visit);
        } else {
          problem = data.message || data.detail || "A change was refused (" + response.status + ").";
        }
      }
    } finally {
      sending = false;
    }
    setNote(problem, Boolean(problem));
    if (sent && !problem && !load().length) window.location.reload();
  }

  // --- what the screen shows for a tap that is not sent yet --------------------------------
  function applyPending() {
    load().forEach((entry) => {
      document.querySelectorAll('form[data-visit-id="' + entry.visit + '"]').forEach((form) => {
        const kind = form.dataset.queue;
        const done = { en_route: ["en_route"], start: ["en_route", "start"], complete: ["en_route", "start", "complete"] }[entry.kind] || [];
        if (done.indexOf(kind) !== -1) {
          if (kind === "complete") {
            const note = document.createElement("p");
            note.className = "done-banner";
            note.setAttribute("role", "status");
            note.textContent = "Completion saved on this phone; it is sent as soon as there is a signal.";
            form.replaceWith(note);
          } else {
            form.hidden = true;
          }
        }
      });
      const label = { en_route: "En route", start: "In progress", complete: "Completed" }[entry.kind];
      document.querySelectorAll('[data-visit="' + entry.visit + '"] [data-status]').forEach((badge) => {
        if (label) badge.textContent = label + " (not sent yet)";
      });
    });
  }

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-queue]");
    if (!form) return;
    event.preventDefault();
    const pad = form.querySelector("[data-signature-pad]");
    if (pad && pad._dnDirty) form.querySelector("[data-signature-value]").value = pad.toDataURL("image/png");
    enqueue(form);
    applyPending();
    setNote();
    flush();
  });

  // --- completion draft -------------------------------------------------------------------
  function draftKey(form) { return "dn-draft-" + form.dataset.draft; }

  function saveDraft(form) {
    const draft = {};
    form.querySelectorAll("textarea, select, input[name=quantity], input[name=signature]").forEach((el) => {
      (draft[el.name] = draft[el.name] || []).push(el.value);
    });
    localStorage.setItem(draftKey(form), JSON.stringify(draft));
  }

  function restoreDraft(form) {
    let draft;
    try { draft = JSON.parse(localStorage.getItem(draftKey(form)) || "null"); } catch (e) { draft = null; }
    if (!draft) return;
    const lines = Math.max((draft.item || []).length, 0);
    while (form.querySelectorAll("[data-line]").length < lines) addLine(form);
    const seen = {};
    form.querySelectorAll("textarea, select, input[name=quantity], input[name=signature]").forEach((el) => {
      const i = (seen[el.name] = (seen[el.name] || 0) + 1) - 1;
      if (draft[el.name] && draft[el.name][i] !== undefined) el.value = draft[el.name][i];
    });
    const value = form.querySelector("[data-signature-value]");
    const pad = form.querySelector("[data-signature-pad]");
    if (value && pad && value.value) {
      const image = new Image();
      image.onload = () => { pad.getContext("2d").drawImage(image, 0, 0); pad._dnDirty = true; };
      image.src = value.value;
    }
  }

  function addLine(form) {
    const lines = form.querySelectorAll("[data-line]");
    const last = lines[lines.length - 1];
    const copy = last.cloneNode(true);
    const n = lines.length + 1;
    copy.querySelectorAll("select, input, label").forEach((el) => {
      if (el.tagName === "LABEL") {
        el.htmlFor = el.htmlFor.replace(/\d+$/, n);
        el.textContent = el.textContent.replace(/\d+$/, n);
      } else {
        el.id = el.id.replace(/\d+$/, n);
        el.value = el.tagName === "SELECT" ? "" : "1";
      }
    });
    last.after(copy);
  }

  // --- signature pad ----------------------------------------------------------------------
  function signaturePad(pad, form) {
    const ctx = pad.getContext("2d");
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.strokeStyle = "#1b2430";
    let drawing = false;
    function point(event) {
      const rect = pad.getBoundingClientRect();
      return [(event.clientX - rect.left) * (pad.width / rect.width), (event.clientY - rect.top) * (pad.height / rect.height)];
    }
    pad.addEventListener("pointerdown", (event) => {
      drawing = true;
      if (pad.setPointerCapture && event.pointerId !== undefined) {
        try { pad.setPointerCapture(event.pointerId); } catch (e) { /* synthetic events */ }
      }
      const [x, y] = point(event);
      ctx.beginPath();
      ctx.moveTo(x, y);
      event.preventDefault();
    });
    pad.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const [x, y] = point(event);
      ctx.lineTo(x, y);
      ctx.stroke();
      pad._dnDirty = true;
    });
    function end() {
      if (!drawing) return;
      drawing = false;
      if (pad._dnDirty) form.querySelector("[data-signature-value]").value = pad.toDataURL("image/png");
      saveDraft(form);
    }
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointercancel", end);
    pad.addEventListener("pointerleave", end);
    const clear = form.querySelector("[data-signature-clear]");
    if (clear) clear.addEventListener("click", () => {
      ctx.clearRect(0, 0, pad.width, pad.height);
      pad._dnDirty = false;
      form.querySelector("[data-signature-value]").value = "";
      saveDraft(form);
    });
  }

  // --- start ------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-draft]").forEach((form) => {
      const add = form.querySelector("[data-add-line]");
      if (add) {
        add.hidden = false;
        add.addEventListener("click", () => { addLine(form); saveDraft(form); });
      }
      const pad = form.querySelector("[data-signature-pad]");
      if (pad) signaturePad(pad, form);
      restoreDraft(form);
      form.addEventListener("input", () => saveDraft(form));
      form.addEventListener("change", () => saveDraft(form));
    });
    const retry = document.querySelector("[data-queue-retry]");
    if (retry) retry.addEventListener("click", flush);
    applyPending();
    showNet();
    flush();
  });
  document.addEventListener("htmx:afterSwap", applyPending);
  window.addEventListener("online", () => { showNet(); flush(); });
  window.addEventListener("offline", showNet);
  setInterval(flush, RETRY_MS);
})();
