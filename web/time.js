// time.js: times as the page shows and links them: RFC 3339, in UTC or in
// the browser's zone (the header's toggle, remembered in localStorage).
// The API's times are ns since the epoch, beyond 2^53: a JS number keeps
// them to ~256 ns only, so a time that goes back into a link or a query is
// a BigInt, read from text (a link, an input, the JSON's own digits).
"use strict";

(function () {
  const DS = (window.DS = window.DS || {});
  const ZONE_KEY = "dropscope.zone";
  const NS_PER_MS = 1000000n;
  const pad = (n, w = 2) => String(n).padStart(w, "0");

  // "utc" or "local": how every time on the page is written.
  DS.zone = localStorage.getItem(ZONE_KEY) === "local" ? "local" : "utc";
  DS.setZone = function (zone) {
    DS.zone = zone === "local" ? "local" : "utc";
    localStorage.setItem(ZONE_KEY, DS.zone);
  };

  // A time as a BigInt of ns: from a BigInt, or a number of ns (the API's,
  // as JSON.parse rounded it).
  DS.toNs = (t) => (typeof t === "bigint" ? t : BigInt(Math.round(t)));

  // The calendar fields of the ms `ms` in the page's zone, and that zone's
  // offset from UTC then, in minutes.
  function fields(ms) {
    const d = new Date(ms);
    if (DS.zone === "utc") {
      return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(),
        mi: d.getUTCMinutes(), s: d.getUTCSeconds(), offset: 0 };
    }
    return { y: d.getFullYear(), mo: d.getMonth() + 1, d: d.getDate(), h: d.getHours(),
      mi: d.getMinutes(), s: d.getSeconds(), offset: -d.getTimezoneOffset() };
  }

  function offsetText(minutes) {
    if (DS.zone === "utc") return "Z";
    const a = Math.abs(minutes);
    return `${minutes < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
  }

  // The fraction of a second: `digits` long (3: ms), or with digits = null
  // as short as is exact in groups of three (none, ms, us or ns).
  function fraction(subNs, digits) {
    let text = pad(subNs, 9);
    if (digits !== null) return `.${text.slice(0, digits)}`;
    while (text.endsWith("000")) text = text.slice(0, -3);
    return text ? `.${text}` : "";
  }

  // RFC 3339 in the page's zone. digits: 3 (ms, the tables' precision) or
  // null (exact: what links and the range inputs carry).
  DS.rfc3339 = function (t, digits = null) {
    const ns = DS.toNs(t);
    let sec = ns / 1000000000n, sub = ns % 1000000000n;
    if (sub < 0n) { sec -= 1n; sub += 1000000000n; }
    const f = fields(Number(sec) * 1000);
    return `${f.y}-${pad(f.mo)}-${pad(f.d)}T${pad(f.h)}:${pad(f.mi)}:${pad(f.s)}` +
      `${fraction(Number(sub), digits)}${offsetText(f.offset)}`;
  };

  const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?([Zz]|[+-]\d\d:\d\d)?$/;

  // Text -> BigInt ns, or null: RFC 3339 (seconds and zone may be left
  // out: then the time is read in the page's zone, as the inputs show it),
  // or a bare count of ns (the links of before).
  DS.parseNs = function (text) {
    const t = (text || "").trim();
    if (/^\d{1,19}$/.test(t)) return BigInt(t);
    const m = RFC3339.exec(t);
    if (!m) return null;
    const [y, mo, d, h, mi, s = "0"] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x)));
    const zone = m[8];
    let ms;
    if (zone === undefined && DS.zone === "local") ms = new Date(y, mo - 1, d, h, mi, s).getTime();
    else {
      const off = !zone || /z/i.test(zone) ? 0 : (zone[0] === "-" ? -1 : 1) *
        (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
      ms = Date.UTC(y, mo - 1, d, h, mi, s) - off * 60000;
    }
    if (Number.isNaN(ms) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
    return BigInt(ms) * NS_PER_MS + BigInt((m[7] || "").padEnd(9, "0"));
  };

  // The API's JSON with each time point (a "*_ns" integer) also kept
  // exactly, where the browser lets a reviver see a number's digits:
  // DS.exactNs(row, "start_ns") is then the BigInt the API wrote.
  const exact = new WeakMap();
  DS.parseJson = function (text) {
    return JSON.parse(text, function (key, value, context) {
      if (typeof value === "number" && key.endsWith("_ns") && !Number.isSafeInteger(value) &&
          context && /^\d+$/.test(context.source)) {
        if (!exact.has(this)) exact.set(this, {});
        exact.get(this)[key] = BigInt(context.source);
      }
      return value;
    });
  };
  DS.exactNs = (row, key) => (exact.get(row) || {})[key] ?? DS.toNs(row[key]);
})();
