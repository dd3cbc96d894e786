/* The dispatch board: drag-and-drop and the keyboard Move dialog post to the board's move
   endpoint; the poll (htmx, every 2 s) is held back while a drag or the dialog is open. */
(function () {
  "use strict";
  var dragging = null; // {kind, id} while a drag is in progress
  window.dnBoardLoadedAt = window.dnBoardLoadedAt || Date.now();

  function board() { return document.getElementById("board"); }
  function dialogOpen() {
    var d = document.getElementById("move-dialog");
    return !!(d && d.open);
  }
  function busy() { return dragging !== null || dialogOpen() || document.body.classList.contains("board-posting"); }

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
    catch (e) { return ""; }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* "YYYY-MM-DDTHH:MM" of the board day's start plus `minutes` (wall clock). */
  function startAt(minutes) {
    var b = board();
    var base = b.dataset.dayStart; // local wall time of the first hour shown
    var day = base.slice(0, 10);
    var h = parseInt(base.slice(11, 13), 10), m = parseInt(base.slice(14, 16), 10);
    var total = h * 60 + m + minutes;
    if (total >= 24 * 60) { total = 24 * 60 - parseInt(b.dataset.step, 10); }
    return day + "T" + pad(Math.floor(total / 60)) + ":" + pad(total % 60);
  }

  /* The snapped start for a drop at clientX on a technician's track. */
  function startFromX(track, clientX) {
    var b = board();
    var rect = track.getBoundingClientRect();
    var frac = Math.max(0, Math.min(1, (clientX - rect.left) / rect.width));
    var span = parseInt(b.dataset.span, 10), step = parseInt(b.dataset.step, 10);
    var minutes = Math.floor((frac * span) / step) * step;
    return startAt(Math.min(minutes, span - step));
  }

  function post(fields) {
    var b = board();
    var body = new URLSearchParams();
    body.set("date", b.dataset.date);
    Object.keys(fields).forEach(function (k) { body.set(k, fields[k]); });
    document.body.classList.add("board-posting");
    return fetch(b.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf(), "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin"
    }).then(function (response) {
      return response.text().then(function (html) {
        if (response.status === 404) {
          html = null;
          alert("That job, visit or technician no longer exists; the board will refresh.");
        }
        return html;
      });
    }).then(function (html) {
      document.body.classList.remove("board-posting");
      if (html) { replaceBoard(html); }
      var focus = document.querySelector("#board .board-refusal, #board .board-notice");
      if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus(); }
    }).catch(function () {
      document.body.classList.remove("board-posting");
      alert("The move could not be sent; check the connection and try again.");
    });
  }

  function replaceBoard(html) {
    var old = board();
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.querySelector("#board");
    if (!fresh) { return; }
    old.replaceWith(fresh);
    if (window.htmx) { window.htmx.process(fresh); }
  }

  /* --- drag and drop -------------------------------------------------------------------- */
  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("[draggable=true][data-kind]");
    if (!item) { return; }
    dragging = { kind: item.dataset.kind, id: item.dataset.id };
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", JSON.stringify(dragging));
  });
  document.addEventListener("dragend", function (event) {
    var item = event.target.closest && event.target.closest("[data-kind]");
    if (item) { item.classList.remove("dragging"); }
    document.querySelectorAll(".drop.over").forEach(function (el) { el.classList.remove("over"); });
    dragging = null;
  });
  document.addEventListener("dragover", function (event) {
    var track = event.target.closest && event.target.closest(".drop");
    if (!track || !dragging) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    track.classList.add("over");
  });
  document.addEventListener("dragleave", function (event) {
    var track = event.target.closest && event.target.closest(".drop");
    if (track && !track.contains(event.relatedTarget)) { track.classList.remove("over"); }
  });
  document.addEventListener("drop", function (event) {
    var track = event.target.closest && event.target.closest(".drop");
    if (!track) { return; }
    event.preventDefault();
    var what = dragging;
    try { what = JSON.parse(event.dataTransfer.getData("text/plain")) || what; } catch (e) { /* keep */ }
    dragging = null;
    track.classList.remove("over");
    if (!what) { return; }
    post({ kind: what.kind, id: what.id, technician: track.dataset.technician, start: startFromX(track, event.clientX) });
  });

  /* --- keyboard: the Move dialog --------------------------------------------------------- */
  function openMove(item, opener) {
    var dialog = document.getElementById("move-dialog");
    if (!dialog) { return; }
    var form = dialog.querySelector("form");
    form.elements.kind.value = item.dataset.kind;
    form.elements.id.value = item.dataset.id;
    if (item.dataset.technician) { form.elements.technician.value = item.dataset.technician; }
    if (item.dataset.start) {
      var option = form.elements.start.querySelector('option[value="' + item.dataset.start + '"]');
      if (option) { form.elements.start.value = item.dataset.start; }
    }
    dialog.querySelector("#move-title").textContent =
      (item.dataset.kind === "job" ? "Assign " : "Move ") + item.dataset.label;
    dialog._opener = opener;
    dialog.showModal();
    form.elements.technician.focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-move]");
    if (button) { openMove(button.closest("[data-kind]"), button); return; }
    var close = event.target.closest && event.target.closest("#move-dialog [data-close]");
    if (close) { document.getElementById("move-dialog").close(); return; }
    var alt = event.target.closest && event.target.closest("button.alt");
    if (alt) {
      post({ kind: alt.dataset.kind, id: alt.dataset.id, technician: alt.dataset.technician, start: alt.dataset.start });
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "move-form") { return; }
    event.preventDefault();
    var fields = { kind: form.elements.kind.value, id: form.elements.id.value,
                   technician: form.elements.technician.value, start: form.elements.start.value };
    form.closest("dialog").close();
    post(fields);
  });
  document.addEventListener("keydown", function (event) {
    // Enter on a select of the Move form submits it (a select alone would swallow it).
    if (event.key === "Enter" && event.target.matches && event.target.matches("#move-form select")) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  /* --- live updates: never swap under a drag or an open dialog ---------------------------- */
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.id === "board" && busy()) { event.preventDefault(); }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.target.id === "board" && busy()) { event.detail.shouldSwap = false; }
  });
})();
