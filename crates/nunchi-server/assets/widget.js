// nunchi survey widget: one <script> tag shows a survey inside any page.
//   <script src="https://cx.example.com/widget.js" data-survey="KEY"
//           data-customer="CUSTOMER-ID" data-lang="ko" data-on="purchase" async></script>
// data-on: show on that event (nunchi('event', 'purchase')), or "load" to show at once;
// without it the page decides: nunchi('show'). The server applies the fatigue rules, so
// the widget asks before it shows and says nothing when told not to.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = script.src.replace(/\/widget\.js.*$/, "");
  var cfg = {
    survey: script.getAttribute("data-survey"),
    customer: script.getAttribute("data-customer") || null,
    lang: script.getAttribute("data-lang") || (navigator.language || "ko").slice(0, 2),
    on: script.getAttribute("data-on") || ""
  };
  var TEXT = {
    ko: { next: "다음", skip: "건너뛰기", send: "보내기", thanks: "감사합니다!", close: "닫기", low: "전혀 아니다", high: "매우 그렇다" },
    en: { next: "Next", skip: "Skip", send: "Send", thanks: "Thank you!", close: "Close", low: "Not likely", high: "Very likely" }
  };
  var t = TEXT[cfg.lang] || TEXT.en;
  var visitor;
  try {
    visitor = localStorage.getItem("nunchi_visitor");
    if (!visitor) {
      visitor = "v-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
      localStorage.setItem("nunchi_visitor", visitor);
    }
  } catch (e) { visitor = "v-" + Math.random().toString(36).slice(2); }

  // text/plain keeps the request "simple": no CORS preflight.
  function post(path, body) {
    return fetch(base + path, { method: "POST", headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); });
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "style") e.style.cssText = attrs[k]; else if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }

  var box, showing = false;
  function frame() {
    box = el("div", { id: "nunchi-survey", role: "dialog", "aria-live": "polite",
      style: "position:fixed;right:16px;bottom:16px;z-index:2147483000;width:min(360px,calc(100vw - 32px));background:#fff;color:#222;border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.18);padding:16px;font:15px/1.45 system-ui,sans-serif" });
    document.body.appendChild(box);
  }
  function clear() { while (box.firstChild) box.removeChild(box.firstChild); }
  function closeButton() {
    var b = el("button", { type: "button", "aria-label": t.close, text: "×", style: "float:right;border:0;background:none;font-size:20px;cursor:pointer" });
    b.onclick = function () { box.remove(); };
    return b;
  }

  function render(state, id) {
    var q = state.questions.filter(function (x) { return x.id === id; })[0];
    clear();
    box.appendChild(closeButton());
    if (!q) {
      box.appendChild(el("p", { id: "nunchi-thanks", text: t.thanks, style: "font-weight:600;margin:8px 0" }));
      setTimeout(function () { if (box) box.remove(); }, 2500);
      return;
    }
    box.appendChild(el("p", { text: q.text, style: "font-weight:600;margin:0 0 10px" }));
    var value = null, picked = [];
    var area;
    if (q.scale) {
      var row = el("div", { style: "display:flex;flex-wrap:wrap;gap:4px" });
      for (var v = q.scale[0]; v <= q.scale[1]; v++) {
        (function (n) {
          var b = el("button", { type: "button", "data-value": String(n), text: String(n), style: "flex:1 0 26px;padding:6px 0;border:1px solid #ccd;border-radius:6px;background:#fff;cursor:pointer" });
          b.onclick = function () { value = n; send(); };
          row.appendChild(b);
        })(v);
      }
      box.appendChild(row);
      if (q.kind === "nps") box.appendChild(el("div", { style: "display:flex;justify-content:space-between;font-size:12px;color:#777;margin-top:4px" }, [el("span", { text: t.low }), el("span", { text: t.high })]));
    } else if (q.kind === "text") {
      area = el("textarea", { rows: "3", maxlength: "5000", style: "width:100%;box-sizing:border-box" });
      box.appendChild(area);
    } else {
      q.choices.forEach(function (c) {
        var input = el("input", { type: q.kind === "multi" ? "checkbox" : "radio", name: "nunchi-" + q.id, value: c.id });
        input.onchange = function () {
          if (q.kind === "multi") picked = Array.prototype.map.call(box.querySelectorAll("input:checked"), function (i) { return i.value; });
          else value = c.id;
        };
        box.appendChild(el("label", { style: "display:block;margin:4px 0" }, [input, document.createTextNode(" " + c.label)]));
      });
    }
    var actions = el("div", { style: "display:flex;gap:8px;justify-content:flex-end;margin-top:10px" });
    if (!q.required) {
      var skip = el("button", { type: "button", text: t.skip });
      skip.onclick = function () { value = null; picked = []; if (area) area.value = ""; send(); };
      actions.appendChild(skip);
    }
    if (!q.scale) {
      var next = el("button", { type: "button", text: t.next, style: "background:#3b5bdb;color:#fff;border:0;border-radius:6px;padding:6px 14px" });
      next.onclick = send;
      actions.appendChild(next);
    }
    box.appendChild(actions);
    function send() {
      var answer = area ? area.value : (q.kind === "multi" ? picked : value);
      post("/api/public/responses/" + encodeURIComponent(state.token), { question: q.id, answer: answer }).then(function (r) {
        if (r.ok) render(state, r.body.next);
      });
    }
  }

  function show() {
    if (showing || !cfg.survey) return;
    showing = true;
    post("/api/public/surveys/" + encodeURIComponent(cfg.survey) + "/display", { customer: cfg.customer, anonymous_id: visitor, lang: cfg.lang })
      .then(function (r) {
        if (!r.ok || !r.body.show) { showing = false; return; }
        frame();
        render(r.body, r.body.first);
      });
  }

  var queued = (window.nunchi && window.nunchi.q) || [];
  window.nunchi = function (command, arg) {
    if (command === "show") show();
    else if (command === "event" && cfg.on && arg === cfg.on) show();
    else if (command === "identify" && arg) cfg.customer = String(arg);
  };
  queued.forEach(function (args) { window.nunchi.apply(null, args); });
  if (cfg.on === "load") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show); else show();
  }
})();
