// The WebAuthn call of a page: the page holds its options (JSON, from the
// server) and a form; this script asks the browser's authenticator and posts
// the answer with the form. Nothing else on the pages needs JavaScript.
(function () {
  "use strict";
  var data = document.getElementById("webauthn-options");
  var form = document.getElementById("webauthn-form");
  var button = document.getElementById("webauthn-start");
  var status = document.getElementById("webauthn-status");
  if (!data || !form || !button) {
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
  var options = JSON.parse(data.textContent);
  button.addEventListener("click", function () {
    status.textContent = "";
    var call = options.publicKey.user
      ? navigator.credentials.create({
          publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.publicKey),
        })
      : navigator.credentials.get({
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey),
        });
    call.then(
      function (credential) {
        form.elements.credential.value = JSON.stringify(credential.toJSON());
        form.submit();
      },
      function (error) {
        status.textContent = english
          ? "The passkey was not used (" + error.name + "). You can try again."
          : "Passkey chưa được dùng (" + error.name + "). Bạn có thể thử lại.";
      }
    );
  });
})();
