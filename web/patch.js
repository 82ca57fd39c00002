// patch.js: updates a view in place. A refresh (or a new range for the same
// view) draws the view again off-page, then DS.patch makes the shown one
// look like it while keeping its elements: what the user opened, focused,
// scrolled or selected stays, and charts get the new data (charts.js).
// Children are matched by key (id, else data-key), the rest by tag in
// order; only what has no match is added or removed.
"use strict";

(function () {
  const DS = window.DS;

  // Attributes the user changes and the view does not draw: kept as they are.
  const userOwned = (el, name) => name === "open" && el.tagName === "DETAILS";

  const keyOf = (n) => (n.nodeType === Node.ELEMENT_NODE ? n.id || n.dataset.key || null : null);
  const sameKind = (a, b) => a.nodeType === b.nodeType && a.nodeName === b.nodeName;

  function patchAttributes(old, neu) {
    for (const { name } of [...old.attributes]) {
      if (!neu.hasAttribute(name) && !userOwned(old, name)) old.removeAttribute(name);
    }
    for (const { name, value } of neu.attributes) {
      if (old.getAttribute(name) !== value && !userOwned(old, name)) old.setAttribute(name, value);
    }
  }

  // The old children that each new child becomes (a Map new -> old), by
  // key first, then the unkeyed ones by kind in order.
  function matchChildren(old, neu) {
    const byKey = new Map(), loose = new Map();
    for (const c of old.childNodes) {
      const k = keyOf(c);
      if (k) byKey.set(k, c);
      else (loose.get(c.nodeName) || loose.set(c.nodeName, []).get(c.nodeName)).push(c);
    }
    const match = new Map();
    for (const c of neu.childNodes) {
      const k = keyOf(c);
      const o = k ? byKey.get(k) : (loose.get(c.nodeName) || []).shift();
      if (k) byKey.delete(k); // a key twice: the second is new
      if (o && sameKind(o, c)) match.set(c, o);
    }
    return match;
  }

  function patchChildren(old, neu) {
    const match = matchChildren(old, neu);
    const kept = new Set(match.values());
    // Removed first, so that what stays is already in order and not moved
    // (moving an element drops its focus).
    for (const c of [...old.childNodes]) {
      if (!kept.has(c)) {
        DS.destroyCharts(c);
        c.remove();
      }
    }
    let at = old.firstChild;
    for (const c of [...neu.childNodes]) {
      const o = match.get(c);
      if (o) {
        DS.patch(o, c);
        if (o === at) at = at.nextSibling;
        else old.insertBefore(o, at);
      } else {
        old.insertBefore(c, at);
      }
    }
  }

  // Makes old (shown) like neu (drawn off-page, of the same tag); neu is
  // used up. Listeners come along (DS.h keeps them in _on), and so do the
  // charts' new data.
  DS.patch = function (old, neu) {
    if (old.nodeType !== Node.ELEMENT_NODE) {
      if (old.nodeValue !== neu.nodeValue) old.nodeValue = neu.nodeValue;
      return;
    }
    patchAttributes(old, neu);
    DS.adoptHandlers(old, neu);
    if (neu._chart) { // a chart: its drawing is uPlot's, only the data is new
      old._chart = neu._chart;
      return;
    }
    if (old.uplot) DS.destroyCharts(old); // a chart no longer: its place is the view's again
    patchChildren(old, neu);
  };
})();
