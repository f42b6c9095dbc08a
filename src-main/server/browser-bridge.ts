// The script browser mode serves at BRIDGE_PATH and loads before the app. It defines
// `window.atelier` with exactly the shape the Electron preload exposes (one frozen object per domain
// plus events.on), over HTTP POST and a WebSocket, so the app cannot tell which host it runs under.
// It is plain JavaScript text, not a bundled module: the server sends it as is.
import { ROUTE_NAMES, domainsOf } from '../../src-shared/contract/route-names';

export const BRIDGE_PATH = '/__atelier/bridge.js';
export const API_PREFIX = '/api/';
export const EVENTS_PATH = '/events';

export function browserBridgeScript(): string {
  const domains = JSON.stringify(domainsOf(ROUTE_NAMES));
  return `'use strict';
(function () {
  var domains = ${domains};
  var failure = function (code, message) { return { ok: false, error: { code: code, message: message } }; };

  function call(route, input) {
    var body = input === undefined ? '' : JSON.stringify(input);
    return fetch(${JSON.stringify(API_PREFIX)} + route, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: body,
    }).then(function (response) {
      return response.text().then(function (text) {
        try {
          var envelope = JSON.parse(text);
          if (envelope && typeof envelope.ok === 'boolean') return envelope;
        } catch (e) { /* not an envelope */ }
        return failure(response.status === 401 || response.status === 403 ? 'FORBIDDEN' : 'INTERNAL', 'HTTP ' + response.status);
      });
    }, function () {
      return failure('UNAVAILABLE', 'the studio server cannot be reached');
    });
  }

  var listeners = new Set();
  var socket = null;
  var retryMs = 250;
  function connect() {
    if (socket || listeners.size === 0) return;
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + ${JSON.stringify(EVENTS_PATH)};
    socket = new WebSocket(url);
    socket.onopen = function () { retryMs = 250; };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      listeners.forEach(function (listener) {
        try { listener(event); } catch (e) { console.error(e); }
      });
    };
    socket.onclose = function () {
      socket = null;
      if (listeners.size > 0) { setTimeout(connect, retryMs); retryMs = Math.min(retryMs * 2, 5000); }
    };
  }

  var api = {};
  Object.keys(domains).forEach(function (domain) {
    var object = {};
    domains[domain].forEach(function (method) {
      var route = domain + '.' + method;
      object[method] = function (input) { return call(route, input); };
    });
    api[domain] = Object.freeze(object);
  });
  api.events = Object.freeze({
    on: function (listener) {
      if (typeof listener !== 'function') throw new TypeError('events.on needs a function');
      listeners.add(listener);
      connect();
      return function () {
        listeners.delete(listener);
        if (listeners.size === 0 && socket) { socket.close(); }
      };
    },
  });
  Object.defineProperty(window, 'atelier', { value: Object.freeze(api), enumerable: true });
})();
`;
}
