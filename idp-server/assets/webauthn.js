// The WebAuthn call of a page: the page holds its options (JSON, from the
// server) or, for a discoverable login, says where to ask for them; this script
// asks the browser's authenticator and posts the answer with the page's form.
// Nothing else on the pages needs JavaScript.
(function () {
  "use strict";
  var data = document.getElementById("webauthn-options");
  var form = document.getElementById("webauthn-form");
  var button = document.getElementById("webauthn-start");
  var status = document.getElementById("webauthn-status");
  if (!form || !button) {
    return;
  }
  var english = document.documentElement.lang === "en";
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
    status.textContent = english
      ? "This browser cannot use passkeys: use an up-to-date browser."
      : "Trình duyệt này không dùng được passkey: hãy dùng trình duyệt mới hơn.";
    button.disabled = true;
    return;
  }
  // The options in the page, or (a discoverable login) a fresh challenge from
  // the server, bound to this login and this browser.
  function options() {
    if (data) {
      return Promise.resolve(JSON.parse(data.textContent));
    }
    var body = new URLSearchParams({ login_id: form.elements.login_id.value });
    return fetch(form.dataset.options, {
      method: "POST",
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      if (response.status === 429) {
        var limited = new Error(
          english
            ? "Your network has sent too many requests: wait a minute, then try again."
            : "Mạng của bạn đã gửi quá nhiều yêu cầu: hãy đợi một phút rồi thử lại."
        );
        limited.plain = true;
        throw limited;
      }
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
  }
  button.addEventListener("click", function () {
    status.textContent = "";
    options()
      .then(function (options) {
        return options.publicKey.user
          ? navigator.credentials.create({
              publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey),
            })
          : navigator.credentials.get({
              publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey),
            });
      })
      .then(
        function (credential) {
          form.elements.credential.value = JSON.stringify(credential.toJSON());
          form.submit();
        },
        function (error) {
          if (error.plain) {
            status.textContent = error.message;
            return;
          }
          status.textContent = english
            ? "The passkey was not used (" + (error.name || error.message) + "). You can try again."
            : "Passkey chưa được dùng (" + (error.name || error.message) + "). Bạn có thể thử lại.";
        }
      );
  });
})();
