// The console's only script: htmx requests carry the page's CSRF token, and the trail page verifies an
// RFC 9162 inclusion proof in the browser (SHA-256 via Web Crypto), independently of the audit service.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { e.detail.headers["X-CSRFToken"] = meta.content; }
  });

  function b64(s) { var r = atob(s), out = new Uint8Array(r.length); for (var i = 0; i < r.length; i++) out[i] = r.charCodeAt(i); return out; }
  function cat(prefix, a, b) {
    var out = new Uint8Array(1 + a.length + (b ? b.length : 0));
    out[0] = prefix; out.set(a, 1); if (b) out.set(b, 1 + a.length); return out;
  }
  async function sha(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
  function equal(a, b) { if (a.length !== b.length) return false; for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false; return true; }

  // RFC 9162 §2.1.3.2: recompute the root from the leaf hash and the audit path.
  async function rootFromProof(index, size, leafHash, proof) {
    if (index >= size) throw new Error("index beyond tree size");
    var fn = index, sn = size - 1, r = leafHash;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (sn === 0) throw new Error("proof too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha(cat(1, p, r));
        if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
      } else {
        r = await sha(cat(1, r, p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("proof too short");
    return r;
  }

  async function verify(el) {
    var out = el.querySelector("[data-result]");
    try {
      var proof = JSON.parse(el.dataset.proof).map(b64);
      // The leaf hash from the event's own bytes (RFC 9162: SHA-256(0x00 || leaf)), not taken on trust.
      var leaf = await sha(cat(0, b64(el.dataset.leafInput)));
      if (!equal(leaf, b64(el.dataset.leaf))) throw new Error("事件原文与叶子哈希不符");
      var root = await rootFromProof(Number(el.dataset.index), Number(el.dataset.size), leaf, proof);
      var ok = equal(root, b64(el.dataset.root));
      out.textContent = ok ? "已在浏览器中验证：该事件包含在签名树头中" : "验证失败：计算出的根哈希与签名树头不一致";
      out.className = ok ? "ok" : "bad";
    } catch (err) {
      out.textContent = "验证失败：" + (err && err.message ? err.message : "证明格式有误");
      out.className = "bad";
    }
  }
  function run(root) { (root || document).querySelectorAll("[data-inclusion-proof]").forEach(verify); }
  document.addEventListener("DOMContentLoaded", function () { run(); });
  document.addEventListener("htmx:afterSwap", function (e) { run(e.target); });
})();
