// nunchi widget: one <script> tag shows a survey and/or a live chat inside any page.
//   <script src="https://cx.example.com/widget.js" data-survey="KEY" data-chat="on"
//           data-customer="CUSTOMER-ID" data-lang="ko" data-on="purchase" async></script>
// data-on: show the survey on that event (nunchi('event', 'purchase')), or "load" to show
// it at once; without it the page decides: nunchi('show'). The server applies the fatigue
// rules, so the widget asks before it shows and says nothing when told not to.
// data-chat="on": a chat launcher; messages travel over a WebSocket (live_thread.js) and
// none is lost when the connection drops.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = script.src.replace(/\/widget\.js.*$/, "");
  var cfg = {
    survey: script.getAttribute("data-survey"),
    customer: script.getAttribute("data-customer") || null,
    lang: script.getAttribute("data-lang") || (navigator.language || "ko").slice(0, 2),
    on: script.getAttribute("data-on") || "",
    chat: script.getAttribute("data-chat") === "on"
  };
  var TEXT = {
    ko: { next: "다음", skip: "건너뛰기", send: "보내기", thanks: "감사합니다!", close: "닫기", low: "전혀 아니다", high: "매우 그렇다",
      chat: "상담하기", chatTitle: "무엇을 도와드릴까요?", chatHint: "메시지를 입력하세요", chatEmpty: "메시지를 남기시면 상담원이 답변드립니다.",
      agent: "상담원", you: "나", pending: "보내는 중…", live: "연결됨", connecting: "연결 중…", reconnecting: "다시 연결 중… 메시지는 보관했다가 보냅니다",
      attach: "사진·파일 보내기", notSent: "보내지 못했습니다" },
    en: { next: "Next", skip: "Skip", send: "Send", thanks: "Thank you!", close: "Close", low: "Not likely", high: "Very likely",
      chat: "Chat with us", chatTitle: "How can we help?", chatHint: "Write a message", chatEmpty: "Leave a message and an agent will answer here.",
      agent: "Support", you: "You", pending: "Sending…", live: "Connected", connecting: "Connecting…", reconnecting: "Reconnecting… your messages are kept and sent",
      attach: "Send a photo or file", notSent: "Not sent" }
  };
  var t = TEXT[cfg.lang] || TEXT.en;
  var visitor;
  try {
    visitor = localStorage.getItem("nunchi_visitor");
    if (!visitor) {
      visitor = "v-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
      localStorage.setItem("nunchi_visitor", visitor);
    }
  } catch (e) { visitor = "v-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2); }

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
          var b = el("button", { type: "button", "data-value": String(n), "aria-label": String(n), text: q.kind === "rating" ? new Array(n + 1).join("★") : String(n), style: "flex:1 0 26px;padding:6px 0;border:1px solid #ccd;border-radius:6px;background:#fff;cursor:pointer" });
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

  // The chat: a launcher, then a panel whose lines are the conversation's, in order.
  function chat() {
    var panel, lines, input, stateLine, live;
    var launcher = el("button", { type: "button", id: "nunchi-chat-launcher", text: "💬 " + t.chat,
      style: "position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;background:#3b5bdb;color:#fff;font:600 15px system-ui,sans-serif;box-shadow:0 4px 16px rgba(0,0,0,.2);cursor:pointer" });
    // Text with its web addresses as links (a rating request carries one); never as HTML.
    function linked(text) {
      var body = el("div", { "class": "nunchi-chat-text" });
      text.split(/(https?:\/\/[^\s]+)/).forEach(function (part, i) {
        if (i % 2 === 1) body.appendChild(el("a", { href: part, target: "_blank", rel: "noopener noreferrer", text: part }));
        else if (part) body.appendChild(document.createTextNode(part));
      });
      return body;
    }
    function line(who, text, mine, pending) {
      return el("li", { style: "list-style:none;max-width:80%;margin:6px 0;padding:8px 10px;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere;" +
        (mine ? "margin-left:auto;background:#edf2ff;" : "background:#f1f3f5;") + (pending ? "opacity:.6;" : "") },
        [el("div", { text: who, style: "font-size:11px;color:#666" }), linked(text)]);
    }
    function open() {
      launcher.style.display = "none";
      if (panel) { panel.style.display = "flex"; input.focus(); return; }
      panel = el("div", { id: "nunchi-chat", role: "dialog", "aria-label": t.chatTitle,
        style: "position:fixed;right:16px;bottom:16px;z-index:2147483000;width:min(360px,calc(100vw - 32px));height:min(480px,calc(100vh - 32px));display:flex;flex-direction:column;background:#fff;color:#222;border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.18);font:15px/1.45 system-ui,sans-serif" });
      var close = el("button", { type: "button", "aria-label": t.close, text: "×", style: "border:0;background:none;font-size:20px;cursor:pointer" });
      close.onclick = function () { panel.style.display = "none"; launcher.style.display = ""; };
      panel.appendChild(el("div", { style: "display:flex;justify-content:space-between;align-items:center;padding:10px 14px;border-bottom:1px solid #eee" },
        [el("strong", { text: t.chatTitle }), close]));
      stateLine = el("div", { id: "nunchi-chat-state", "data-state": "connecting", text: t.connecting, style: "font-size:12px;color:#888;padding:4px 14px" });
      panel.appendChild(stateLine);
      lines = el("ol", { id: "nunchi-chat-lines", style: "flex:1;overflow-y:auto;margin:0;padding:6px 14px" },
        [el("li", { id: "nunchi-chat-empty", text: t.chatEmpty, style: "list-style:none;color:#888;font-size:13px" })]);
      panel.appendChild(lines);
      input = el("textarea", { id: "nunchi-chat-input", rows: "2", maxlength: "5000", placeholder: t.chatHint, style: "flex:1;resize:none;border:1px solid #ccd;border-radius:8px;padding:6px;font:inherit" });
      var send = el("button", { type: "button", id: "nunchi-chat-send", text: t.send, style: "background:#3b5bdb;color:#fff;border:0;border-radius:8px;padding:0 14px;cursor:pointer" });
      // Files go over HTTP (the socket carries text); the line comes back over the socket.
      var picker = el("input", { type: "file", id: "nunchi-chat-file", accept: "image/*,.pdf,.txt,.csv", style: "display:none" });
      var attach = el("button", { type: "button", id: "nunchi-chat-attach", "aria-label": t.attach, title: t.attach, text: "📎", style: "border:0;background:none;font-size:18px;cursor:pointer;padding:0 2px" });
      attach.onclick = function () { picker.click(); };
      picker.onchange = function () {
        Array.prototype.forEach.call(picker.files || [], function (file) {
          var id = "f" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
          var item = line(t.pending, "📎 " + file.name, true, true);
          item.setAttribute("data-client", id);
          var empty = document.getElementById("nunchi-chat-empty");
          if (empty) empty.remove();
          lines.appendChild(item);
          lines.scrollTop = lines.scrollHeight;
          var url = base + "/chat/files?visitor=" + encodeURIComponent(visitor) + "&name=" + encodeURIComponent(file.name) +
            "&client_id=" + id + "&lang=" + encodeURIComponent(cfg.lang);
          fetch(url, { method: "POST", headers: { "content-type": "text/plain" }, body: file }).then(function (r) {
            if (r.ok) return;
            return r.json().then(function (b) { throw new Error((b.error && b.error.message) || t.notSent); });
          }).catch(function (e) {
            item.style.opacity = "1";
            item.style.background = "#fff4ed";
            item.firstChild.textContent = t.notSent + ": " + e.message;
          });
        });
        picker.value = "";
      };
      panel.appendChild(el("div", { style: "display:flex;gap:8px;padding:10px 14px;border-top:1px solid #eee" }, [attach, picker, input, send]));
      document.body.appendChild(panel);
      var ws = base.replace(/^http/, "ws") + "/chat/socket?visitor=" + encodeURIComponent(visitor) + "&lang=" + encodeURIComponent(cfg.lang);
      live = window.nunchiLiveThread({
        url: ws,
        onState: function (s) {
          stateLine.setAttribute("data-state", s);
          stateLine.textContent = s === "live" ? t.live : s === "reconnecting" ? t.reconnecting : t.connecting;
        },
        onLine: function (f) {
          var empty = document.getElementById("nunchi-chat-empty");
          if (empty) empty.remove();
          var mine = f.direction === "incoming";
          var item = line(mine ? t.you : t.agent, f.text, mine, false);
          item.setAttribute("data-seq", String(f.seq));
          (f.files || []).forEach(function (file) {
            var href = base + file.url;
            var link = el("a", { href: href, target: "_blank", rel: "noopener noreferrer", "class": "nunchi-chat-file", style: "display:block;margin-top:4px" });
            if (/^image\/(png|jpeg|gif|webp)$/.test(file.type)) link.appendChild(el("img", { src: href, alt: file.name, style: "max-width:100%;max-height:160px;border-radius:6px" }));
            else link.textContent = "📎 " + file.name;
            item.appendChild(link);
          });
          if (f.client_id) {
            var pending = lines.querySelector('li[data-client="' + f.client_id + '"]');
            if (pending) pending.remove();
          }
          lines.insertBefore(item, lines.querySelector("li[data-client]"));
          lines.scrollTop = lines.scrollHeight;
        }
      });
      function submit() {
        var text = input.value.trim();
        if (!text) return;
        var id = live.send(text, false);
        var item = line(t.pending, text, true, true);
        item.setAttribute("data-client", id);
        var empty = document.getElementById("nunchi-chat-empty");
        if (empty) empty.remove();
        lines.appendChild(item);
        lines.scrollTop = lines.scrollHeight;
        input.value = "";
      }
      send.onclick = submit;
      input.onkeydown = function (e) { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); } };
      input.focus();
    }
    launcher.onclick = open;
    document.body.appendChild(launcher);
  }
  if (cfg.chat && window.WebSocket) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", chat); else chat();
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
