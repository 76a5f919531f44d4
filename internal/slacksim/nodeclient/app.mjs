// A small Slack app built only on Slack's official Node clients
// (@slack/socket-mode and @slack/web-api), configured only through their
// documented options. nodeclient_test.go runs it against internal/slacksim
// to check that the simulator speaks the protocol these clients expect.
//
// Environment:
//   SLACK_API_URL    Web API base URL ending in "/api/" (the sim's APIURL)
//   SLACK_BOT_TOKEN  bot token (xoxb-…)
//   SLACK_APP_TOKEN  app-level token (xapp-…)
//   SLACK_LOG_DEBUG  "1" for the clients' debug logs on stderr (the clients
//                    redact tokens in them)
//
// The app:
//   - answers a slash command with text "help" in its ack (ack("Usage: …"));
//   - acks every other slash command and answers it with chat.postMessage
//     in the command's channel: a section and a button (action_id
//     "ack_button");
//   - acks a click on that button and answers with chat.update of the
//     message, without the button;
//   - reads commands from stdin, one a line: "post <channel> <text…>" posts
//     a plain chat.postMessage; "upload <channel> <filename> <text…>"
//     shares the text as a file with files.uploadV2.
//
// It prints one line per thing it did to stdout ("connected", "helped …",
// "slash_command …", "posted …", "clicked …", "updated …", "uploaded …",
// "reconnecting", "error …").
// Client logs go to stderr. Tokens are never printed. It exits with status
// 0 on SIGTERM, SIGINT or when stdin closes, after disconnecting.

import { createInterface } from 'node:readline';
import { SocketModeClient, LogLevel } from '@slack/socket-mode';
import { WebClient } from '@slack/web-api';

const apiURL = process.env.SLACK_API_URL;
const botToken = process.env.SLACK_BOT_TOKEN;
const appToken = process.env.SLACK_APP_TOKEN;
if (!apiURL || !botToken || !appToken) {
  console.error('app.mjs: SLACK_API_URL, SLACK_BOT_TOKEN and SLACK_APP_TOKEN must be set');
  process.exit(2);
}

// A logger (a documented option of both clients) that keeps stdout for the
// line protocol the Go test reads.
let level = LogLevel.INFO;
const logger = {
  debug: (...m) => { if (level === LogLevel.DEBUG) console.error('[DEBUG]', ...m); },
  info: (...m) => { if (level !== LogLevel.WARN && level !== LogLevel.ERROR) console.error('[INFO]', ...m); },
  warn: (...m) => { if (level !== LogLevel.ERROR) console.error('[WARN]', ...m); },
  error: (...m) => console.error('[ERROR]', ...m),
  setLevel: (l) => { level = l; },
  getLevel: () => level,
  setName: () => {},
};
if (process.env.SLACK_LOG_DEBUG === '1') level = LogLevel.DEBUG;

const say = (line) => process.stdout.write(`${line}\n`);

const web = new WebClient(botToken, { slackApiUrl: apiURL, logger });
const socket = new SocketModeClient({ appToken, clientOptions: { slackApiUrl: apiURL }, logger });

socket.on('connected', () => say('connected'));
socket.on('disconnected', () => say('disconnected'));
socket.on('reconnecting', () => say('reconnecting'));

socket.on('slash_commands', async ({ ack, body }) => {
  if (body.text === 'help') {
    // The response travels in the ack itself.
    await ack(`Usage: ${body.command} <summary>`);
    say(`helped ${body.command} ${body.user_id}`);
    return;
  }
  await ack();
  say(`slash_command ${body.command} ${body.channel_id}`);
  try {
    const text = `Incident opened: ${body.text}`;
    const res = await web.chat.postMessage({
      channel: body.channel_id,
      text,
      blocks: [
        { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text } },
        {
          type: 'actions',
          block_id: 'controls',
          elements: [
            {
              type: 'button',
              action_id: 'ack_button',
              text: { type: 'plain_text', text: 'Acknowledge' },
              value: 'ack',
              style: 'primary',
            },
          ],
        },
      ],
    });
    say(`posted ${res.channel} ${res.ts}`);
  } catch (err) {
    say(`error chat.postMessage ${err.code ?? ''} ${err.data?.error ?? err.message}`);
  }
});

socket.on('interactive', async ({ ack, body }) => {
  await ack();
  if (body.type !== 'block_actions') {
    say(`ignored ${body.type}`);
    return;
  }
  const action = body.actions[0];
  say(`clicked ${action.action_id} ${action.value} ${body.user.id}`);
  try {
    const text = `Acknowledged by <@${body.user.id}>`;
    const res = await web.chat.update({
      channel: body.container.channel_id,
      ts: body.container.message_ts,
      text,
      blocks: [{ type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text } }],
    });
    say(`updated ${res.channel} ${res.ts}`);
  } catch (err) {
    say(`error chat.update ${err.code ?? ''} ${err.data?.error ?? err.message}`);
  }
});

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const [cmd, channel, ...words] = line.trim().split(' ');
  switch (cmd) {
    case 'post':
      try {
        const res = await web.chat.postMessage({ channel, text: words.join(' ') });
        say(`posted ${res.channel} ${res.ts}`);
      } catch (err) {
        say(`error chat.postMessage ${err.code ?? ''} ${err.data?.error ?? err.message}`);
      }
      break;
    case 'upload': {
      const [filename, ...content] = words;
      try {
        const res = await web.filesUploadV2({
          channel_id: channel,
          filename,
          title: filename,
          content: content.join(' '),
          initial_comment: `Here is ${filename}`,
        });
        say(`uploaded ${res.files[0].files[0].id}`);
      } catch (err) {
        say(`error files.uploadV2 ${err.code ?? ''} ${err.data?.error ?? err.message}`);
      }
      break;
    }
    case '':
      break;
    default:
      say(`error unknown command ${cmd}`);
  }
});

let stopping = false;
async function stop(why) {
  if (stopping) return;
  stopping = true;
  say(`stopping ${why}`);
  const timer = setTimeout(() => process.exit(0), 3000);
  timer.unref();
  try {
    await socket.disconnect();
  } catch (err) {
    console.error('[ERROR] disconnect:', err.message);
  }
  process.exit(0);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
lines.on('close', () => stop('stdin closed'));

try {
  await socket.start();
} catch (err) {
  say(`error start ${err.code ?? ''} ${err.data?.error ?? err.message}`);
  process.exit(1);
}
