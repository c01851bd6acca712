import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskUrl, maskUrlList, maskUrlsInText } from './mask.js';

test('maskUrl keeps scheme and host only', () => {
  assert.equal(maskUrl('https://hooks.slack.com/services/T0/B0/xyz'), 'https://hooks.slack.com/***');
  assert.equal(maskUrl('http://user:pass@chat.example:8065/hooks/abc?x=1#f'), 'http://chat.example:8065/***');
  assert.equal(maskUrl('hooks.slack.com/services/T0/B0/xyz'), 'hooks.slack.com/***');
  assert.equal(maskUrl('slack://tokenA/tokenB'), 'slack://***');
  assert.equal(maskUrl('tcp://10.0.0.1:2376'), 'tcp://10.0.0.1:2376');
  assert.equal(maskUrl('ssh://deploy@build.example:2222/tmp/engine/docker.sock'), 'ssh://deploy@build.example:2222/tmp/engine/docker.sock');
  assert.equal(maskUrl('ssh://deploy:hunter2@build.example/run'), 'ssh://deploy:***@build.example/run');
  assert.equal(maskUrl('tcp://10.0.0.1:2376/?token=abc'), 'tcp://10.0.0.1:2376/?***');
  assert.equal(maskUrl('unix:///tmp/engine/docker.sock'), 'unix:///tmp/engine/docker.sock');
  assert.equal(maskUrl('json+https://u:pw@example.org:8443/hook/TOKEN'), 'json+https://example.org:8443/***');
  assert.equal(maskUrl('weird+slack://TOKEN/x'), 'weird+slack://***');
  assert.equal(maskUrl('mailto:someone@example.com'), 'mailto:***');
  assert.equal(maskUrl('justatoken'), '***');
  assert.equal(maskUrl(''), '');
});

test('maskUrlList masks each URL of a comma or space separated list', () => {
  assert.equal(maskUrlList('https://a.example/1, https://b.example/2 c.example/3'), 'https://a.example/***, https://b.example/***, c.example/***');
  assert.equal(maskUrlList(''), '');
});

test('maskUrlsInText masks URLs inside free text', () => {
  assert.equal(maskUrlsInText('POST https://a.example/secret failed: "http://b.example/x"'), 'POST https://a.example/*** failed: "http://b.example/***"');
  assert.equal(maskUrlsInText('no urls here'), 'no urls here');
  // What a user with DOCKER_HOST=tcp://127.0.0.1:1 reads in the log, /healthz and check-labels (issue 22).
  assert.equal(
    maskUrlsInText('cannot reach the Docker engine at tcp://127.0.0.1:1: connection refused'),
    'cannot reach the Docker engine at tcp://127.0.0.1:1: connection refused',
  );
  assert.equal(maskUrlsInText('engine ssh://me@box/tmp/engine/docker.sock.'), 'engine ssh://me@box/tmp/engine/docker.sock.');
  assert.equal(maskUrlsInText('POST https://hooks.slack.com/services/T0/B0/xyz: 404'), 'POST https://hooks.slack.com/***: 404');
});

test('maskLabelValue: one rule for label values (secret names masked whole, URLs cut to the host, tokens masked)', async () => {
  const { maskLabelValue, maskSecretsInText } = await import('./mask.js');
  assert.equal(maskLabelValue('webhook', 'tok_live_4eC39HqLyjWDarjtT1zdp7dc'), '***');
  assert.equal(maskLabelValue('notify_urll', 'hooks.slack.com/services/T0/B0/xyz'), 'hooks.slack.com/***');
  assert.equal(maskLabelValue('slack', 'hooks.slack.com/services/T0/B0/xyz'), 'hooks.slack.com/***');
  assert.equal(maskLabelValue('slack', 'see https://hooks.slack.com/services/T0/B0/xyz now'), 'see https://hooks.slack.com/*** now');
  assert.equal(maskLabelValue('payment', 'tok_live_abc'), '***');
  assert.equal(maskLabelValue('other', 'key ghp_16C7e42F292c6912E7710c838347Ae178B4a and more'), 'key *** and more');
  assert.equal(maskLabelValue('other', 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5'), '***');
  for (const harmless of ['3', '5m', '1h30m', 'true', 'DEBUG', 'maybe', 'lots', '', 'a long sentence without secrets']) {
    assert.equal(maskLabelValue('max_restart', harmless), harmless);
  }
  // Container and image ids (hex) are not secrets.
  assert.equal(maskSecretsInText('id 0123456789abcdef0123456789abcdef'), 'id 0123456789abcdef0123456789abcdef');
});
