/* A Fastpath visitor page in the style of the published ofchat clients (see visitor.html). Plain browser
 * script, no build step: what such pages are. The server is another origin, so every call is CORS. */
/* global EventSourcePolyfill, URLSearchParams, location, btoa, document, fetch */
'use strict';

var params = new URLSearchParams(location.search);
var server = params.get('server');
var txtUsername = params.get('username');
var txtPassword = params.get('password');
var workgroup = params.get('workgroup') || 'help';
var txtAuth = 'Basic ' + btoa(txtUsername + ':' + txtPassword);
var restBase = server + '/rest/api/restapi/v1';

var ofchat = null; // the stream id login answers as text/plain, pasted into every session URL
var source = null;
var roomJid = null; // the `sender` of the ask's answer: the room where the expert waits
var room = null;
var agent = null;

function el(id) {
  return document.getElementById(id);
}

function setState(state, text) {
  document.body.dataset.state = state;
  el('status').textContent = text;
}

function show(who, text, mine) {
  var li = document.createElement('li');
  li.className = mine ? 'msg mine' : 'msg';
  li.dataset.from = who;
  var name = document.createElement('span');
  name.className = 'who';
  name.textContent = who;
  var body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  li.appendChild(name);
  li.appendChild(body);
  el('messages').appendChild(li);
}

function fail(what, err) {
  setState('error', what + ': ' + (err && err.message ? err.message : err));
}

// login(): ofchat answers 200 text/plain with the stream id.
function login() {
  return fetch(restBase + '/chat/' + txtUsername + '/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/plain', Authorization: txtAuth },
  }).then(function (response) {
    if (!response.ok) throw new Error('login ' + response.status);
    return response.text().then(function (text) {
      ofchat = text;
    });
  });
}

// loginSSE(): the user's event stream; EventSource cannot send Authorization, the polyfill can.
function loginSSE() {
  return new Promise(function (resolve, reject) {
    source = new EventSourcePolyfill(server + '/sse/' + txtUsername, {
      headers: { Authorization: txtAuth },
    });
    source.addEventListener('chatapi.session', function () {
      resolve();
    });
    source.addEventListener('chatapi.muc', onMuc);
    source.addEventListener('chatapi.presence', onPresence);
    source.onerror = function () {
      // the polyfill reconnects by itself; only a closed stream is a failure
      if (source.readyState === 2) reject(new Error('event stream closed'));
    };
  });
}

// A room message: the page's own posts are encodeURIComponent(JSON) `{type, data}`; the workgroup's
// (welcome, the question) are plain text.
function onMuc(e) {
  var msg = JSON.parse(e.data);
  if (msg.type !== 'groupchat' || !room || msg.room !== roomJid) return;
  var nick = String(msg.from).split('/')[1];
  if (nick === txtUsername) return;
  var text = msg.body;
  try {
    var jmsg = JSON.parse(decodeURIComponent(msg.body));
    if (jmsg && jmsg.type === 'Text') text = jmsg.data;
  } catch {
    // not one of the page's JSON messages: shown as it is
  }
  show(nick, text, false);
}

// Occupants coming and going (ofchat's /sse says "type":"presence"): the expert may enter after the visitor.
function onPresence(e) {
  var p = JSON.parse(e.data);
  if (!room || p.room !== roomJid || p.nick === txtUsername) return;
  if (p.presence === 'unavailable' && p.nick === agent) {
    setState('agent-left', agent + ' left the chat');
    return;
  }
  if (!agent) getagent();
}

// reqserv(): the long poll; ofchat holds it until an expert accepted and the room is open.
function reqserv(question) {
  setState('waiting', 'Waiting for an expert…');
  var body =
    '{"emailAddress": "' +
    txtUsername +
    '@example.org", "question": "' +
    question +
    '", "userID": "' +
    txtUsername +
    '_web", "workgroup": "' +
    workgroup +
    '"}';
  return fetch(restBase + '/ask/', {
    method: 'POST',
    headers: { Accept: 'application/json', Authorization: txtAuth, 'Content-Type': 'application/json' },
    body: body,
  })
    .then(function (response) {
      if (!response.ok) throw new Error('No agents logged in');
      return response.json();
    })
    .then(function (jmsg) {
      if (jmsg.groupchat === 'revoked') throw new Error('Canceled');
      roomJid = jmsg.sender;
      return enterchat(jmsg.sender.split('@')[0]);
    });
}

// enterchat(): join the room named by `sender`, then look for the expert among its occupants.
function enterchat(name) {
  return fetch(restBase + '/chat/' + ofchat + '/rooms/' + name + '?service=conference', {
    method: 'PUT',
    headers: { Authorization: txtAuth },
  }).then(function (response) {
    if (!response.ok) throw new Error('enter ' + response.status);
    room = name;
    setState('in-room', 'In the room, waiting for your expert…');
    el('msg').disabled = false;
    el('sendBtn').disabled = false;
    el('leaveBtn').disabled = false;
    return getagent();
  });
}

// getagent(): the first occupant that is not the visitor (Jersey 1 JSON: one item is an object, not a list).
function getagent() {
  return fetch(restBase + '/chat/rooms/' + room + '/participants', {
    headers: { Accept: 'application/json', Authorization: txtAuth },
  })
    .then(function (response) {
      return response.json();
    })
    .then(function (json) {
      var p = json.participant || [];
      if (!p.length) p = [p];
      for (var i = 0; i < p.length; i++) {
        var nick = p[i].jid.split('/')[1];
        if (nick !== txtUsername && !/\(workgroup\)$/.test(nick) && !agent) {
          agent = nick;
          el('agentName').textContent = agent;
          el('agent').hidden = false;
          setState('with-agent', 'Chatting with ' + agent);
        }
      }
    });
}

// sendMsg(): what the published page posts: encodeURIComponent of a JSON text, labelled application/json.
function sendMsg(text) {
  var jsonMsg = '{ "type" : "Text", "data" : "' + text + '"}';
  return fetch(restBase + '/chat/' + ofchat + '/rooms/' + room, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: txtAuth },
    body: encodeURIComponent(jsonMsg),
  }).then(function (response) {
    if (!response.ok) throw new Error('send ' + response.status);
    show(txtUsername, text, true);
  });
}

// closechat() and logoff(): leave the room, end the session, close the stream.
function closechat() {
  return fetch(restBase + '/chat/' + ofchat + '/rooms/' + room + '?service=conference', {
    method: 'DELETE',
    headers: { Authorization: txtAuth },
  })
    .then(function (response) {
      if (!response.ok) throw new Error('leave ' + response.status);
      room = null;
      return fetch(restBase + '/chat/' + ofchat + '/logoff', {
        method: 'POST',
        headers: { Authorization: txtAuth },
      });
    })
    .then(function (response) {
      if (!response.ok) throw new Error('logoff ' + response.status);
      source.close();
      el('msg').disabled = true;
      el('sendBtn').disabled = true;
      el('leaveBtn').disabled = true;
      setState('ended', 'Chat ended. Thank you!');
    });
}

el('askForm').addEventListener('submit', function (ev) {
  ev.preventDefault();
  el('askBtn').disabled = true;
  setState('connecting', 'Connecting…');
  login()
    .then(loginSSE)
    .then(function () {
      return reqserv(el('question').value);
    })
    .catch(function (err) {
      fail('Could not reach an expert', err);
    });
});

el('sendForm').addEventListener('submit', function (ev) {
  ev.preventDefault();
  var text = el('msg').value;
  if (!text) return;
  el('msg').value = '';
  sendMsg(text).catch(function (err) {
    fail('Not sent', err);
  });
});

el('leaveBtn').addEventListener('click', function () {
  closechat().catch(function (err) {
    fail('Could not leave', err);
  });
});
