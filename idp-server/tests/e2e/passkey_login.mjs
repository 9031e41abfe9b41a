// A resident activates their account with a passkey, logs in to the demo portal
// with it, and looks at their account page, in headless Chromium with a CDP virtual authenticator (a
// platform authenticator with resident keys and user verification), through the
// real pages. A screenshot of each page goes to OUT_DIR; any console error, page
// error or unexpected page fails the run.
//
// Usage: node passkey_login.mjs ISSUER PERSONAL_NUMBER ACTIVATION_CODE OUT_DIR

import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

const [issuer, number, code, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node passkey_login.mjs ISSUER PERSONAL_NUMBER ACTIVATION_CODE OUT_DIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const problems = [];
let shots = 0;
try {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  const shot = async (name) => {
    shots += 1;
    await page.screenshot({
      path: `${outDir}/${String(shots).padStart(2, "0")}-${name}.png`,
      fullPage: true,
    });
  };
  const expectText = async (text, where) => {
    const body = await page.textContent("body");
    if (!body.includes(text)) {
      throw new Error(`${where}: expected "${text}" on ${page.url()}, found: ${body}`);
    }
  };

  // Activation: number and code, then a passkey made by the authenticator.
  await page.goto(`${issuer}/activate`);
  await shot("activate");
  await page.fill("#personal_number", number);
  await page.fill("#code", code);
  await Promise.all([page.waitForURL(`${issuer}/activate`), page.click("form button")]);
  await expectText("Create a passkey", "after the code");
  await shot("create-passkey");
  await Promise.all([page.waitForURL(`${issuer}/activate/finish`), page.click("#webauthn-start")]);
  await expectText("is registered", "after the passkey");
  await shot("activated");

  // The passkey is discoverable (a resident credential): no number is needed to
  // sign in with it.
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  if (credentials.length !== 1 || !credentials[0].isResidentCredential) {
    throw new Error(`expected one resident credential, found ${JSON.stringify(credentials)}`);
  }

  // Login at the demo portal: "sign in with a passkey", no number typed (a
  // discoverable credential), then the consent page, then the portal.
  await page.goto(`${issuer}/demo/portal`);
  await shot("portal");
  await Promise.all([page.waitForURL(/\/authorize\?/), page.click("a[href='/demo/portal/login']")]);
  await expectText("Sign in with a passkey", "the login page");
  await shot("login");
  await Promise.all([page.waitForURL(`${issuer}/authorize/login`), page.click("#webauthn-start")]);
  await expectText("asks for", "the consent page");
  await shot("consent");
  await Promise.all([
    page.waitForURL(/\/demo\/portal\/callback/),
    page.click("button[value='allow']"),
  ]);
  await expectText("national_id", "the portal after login");
  await expectText(number, "the portal after login");
  await shot("portal-logged-in");

  // The person's own page: the passkey they made, the portal they agreed to.
  await page.goto(`${issuer}/account`);
  await expectText("Passkeys", "the account page");
  await expectText("Cổng dịch vụ công", "the account page");
  await shot("account");
} catch (e) {
  problems.push(`${e.message}`);
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`ok: ${shots} pages`);
