// nunchi live thread: one conversation over a WebSocket, shared by the chat widget and the
// agent's conversation page (the server prepends this file to both scripts).
// The client keeps the number of the last line it holds and says it on every (re)connect,
// so the server sends exactly what it missed; each message it sends carries a fresh
// client id and stays in the outbox until the server acknowledges it, and the outbox is
// sent again after a reconnect (the server stores a client id once).
(function () {
  "use strict";
  if (window.nunchiLiveThread) return;
  function newId() {
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }
  // opts: url, conversation (id or null), seq (the last line held), onLine(frame),
  // onError(frame), onState("connecting" | "live" | "reconnecting").
  window.nunchiLiveThread = function (opts) {
    var conversation = opts.conversation || null;
    var seq = opts.seq || 0;
    var outbox = [];
    var ws = null;
    var delay = 500;
    var opened = false;
    var timer = null;
    function state(s) { if (opts.onState) opts.onState(s); }
    function push(sock, m) {
      sock.send(JSON.stringify({ type: "send", client_id: m.client_id, text: m.text, note: m.note }));
    }
    function drop(id) {
      outbox = outbox.filter(function (m) { return m.client_id !== id; });
    }
    function retry() {
      state("reconnecting");
      clearTimeout(timer);
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 5000);
    }
    function connect() {
      if (!opened) state("connecting");
      var sock;
      try { sock = new WebSocket(opts.url); } catch (e) { retry(); return; }
      ws = sock;
      sock.onopen = function () {
        opened = true;
        delay = 500;
        sock.send(JSON.stringify({ type: "hello", conversation: conversation, since: seq }));
        outbox.forEach(function (m) { push(sock, m); });
        state("live");
      };
      sock.onmessage = function (event) {
        var f;
        try { f = JSON.parse(event.data); } catch (e) { return; }
        if (f.type === "line") {
          if (f.conversation !== conversation) { conversation = f.conversation; seq = 0; }
          if (f.seq <= seq) return;
          seq = f.seq;
          if (f.client_id) drop(f.client_id);
          opts.onLine(f);
        } else if (f.type === "ack") {
          drop(f.client_id);
        } else if (f.type === "error") {
          if (f.code === "rate_limited") {
            setTimeout(function () {
              outbox.forEach(function (m) { if (m.client_id === f.client_id && ws && ws.readyState === 1) push(ws, m); });
            }, 1500);
          } else {
            if (f.client_id) drop(f.client_id);
            if (opts.onError) opts.onError(f);
          }
        }
      };
      sock.onclose = function () {
        if (ws === sock) { ws = null; retry(); }
      };
      sock.onerror = function () {
        try { sock.close(); } catch (e) { /* closing anyway */ }
      };
    }
    connect();
    return {
      // Queues a message and returns its client id; it is sent now if connected.
      send: function (text, note) {
        var m = { client_id: newId(), text: text, note: !!note };
        outbox.push(m);
        if (ws && ws.readyState === 1) push(ws, m);
        return m.client_id;
      }
    };
  };
})();
