// Site script (served as a file: the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  // WeChat's in-app browser exposes the user's font scale; follow it (WeUI pattern).
  try {
    if (window.__wxWebEnv && window.__wxWebEnv.getEnv) {
      var scale = JSON.parse(window.__wxWebEnv.getEnv()).fontScale;
      if (scale) { document.body.style.webkitTextSizeAdjust = scale + "%"; }
    }
  } catch (e) { /* outside WeChat: nothing to do */ }
  // A submit button pressed once is disabled until the page changes (no double posts).
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter;
    if (btn && btn.dataset.once !== undefined) {
      setTimeout(function () { btn.disabled = true; btn.setAttribute("aria-busy", "true"); }, 0);
    }
  });
  // 获取验证码 after a code was sent (or refused for a while): the button counts down to
  // the moment the server allows another code (data-countdown seconds), then comes back.
  Array.prototype.forEach.call(document.querySelectorAll("button[data-countdown]"), function (btn) {
    var left = parseInt(btn.dataset.countdown, 10);
    if (!(left > 0)) { return; }
    var label = btn.textContent;
    btn.disabled = true;
    (function tick() {
      if (left <= 0) { btn.disabled = false; btn.textContent = label; return; }
      btn.textContent = left + "秒后重发";
      left -= 1;
      setTimeout(tick, 1000);
    })();
  });
})();

// JSAPI payment inside WeChat: the parameters come signed from the server as
// data attributes; the result page asks the server (the browser's "ok" is not
// authoritative, interfaces.md §4.5), so every outcome goes to the return URL.
(function () {
  "use strict";
  var btn = document.getElementById("wxpay");
  if (!btn) { return; }
  function pay() {
    var d = btn.dataset;
    if (typeof window.WeixinJSBridge === "undefined") { window.location.replace(d.returnUrl); return; }
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", {
      appId: d.appId, timeStamp: d.timeStamp, nonceStr: d.nonceStr, "package": d["package"], signType: d.signType, paySign: d.paySign
    }, function () { window.location.replace(d.returnUrl); });
  }
  btn.addEventListener("click", pay);
  if (typeof window.WeixinJSBridge !== "undefined") { pay(); }
  else { document.addEventListener("WeixinJSBridgeReady", pay, false); }
})();

(function () {
  // A checkbox that enables (data-enables) or shows (data-reveals) another part of the form.
  // Without script both stay usable: the server checks everything again.
  Array.prototype.forEach.call(document.querySelectorAll("input[type=checkbox][data-enables],input[type=checkbox][data-reveals]"), function (box) {
    function sync() {
      var target = document.getElementById(box.getAttribute("data-enables") || "");
      if (target) { target.disabled = !box.checked; target.setAttribute("aria-disabled", String(!box.checked)); }
      var region = document.getElementById(box.getAttribute("data-reveals") || "");
      if (region) { region.hidden = !box.checked; }
    }
    box.addEventListener("change", sync);
    sync();
  });
})();

(function () {
  // The notice popup (shebao/notices): a modal dialog. Focus moves into it, Tab stays in it,
  // the page behind is inert; Esc closes it like its 关闭 button, except a 非常重要 notice,
  // which closes only by 我已阅读并知晓. Without script it is still a form that posts.
  var dialog = document.getElementById("notice-dialog");
  if (!dialog) { return; }
  var backdrop = document.getElementById("notice-dialog-backdrop");
  Array.prototype.forEach.call(document.body.children, function (el) {
    if (el !== backdrop && el.tagName !== "SCRIPT") { el.setAttribute("inert", ""); el.setAttribute("aria-hidden", "true"); }
  });
  document.body.classList.add("nt-open");
  var critical = dialog.hasAttribute("data-critical");
  var action = dialog.querySelector(critical ? "[data-notice-ack]" : "[data-notice-close]");
  dialog.focus();
  function focusables() {
    return Array.prototype.filter.call(dialog.querySelectorAll("a[href],button:not([disabled]),[tabindex]:not([tabindex='-1'])"),
      function (el) { return el.offsetParent !== null; });
  }
  dialog.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      ev.preventDefault();
      if (critical) { action.focus(); } else { action.click(); }
      return;
    }
    if (ev.key !== "Tab") { return; }
    var items = focusables();
    if (!items.length) { ev.preventDefault(); return; }
    var first = items[0], last = items[items.length - 1];
    if (ev.shiftKey && (document.activeElement === first || document.activeElement === dialog)) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
  });
})();
