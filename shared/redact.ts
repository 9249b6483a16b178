/**
 * Where a secret can sit in a logged object, for pino's `redact` option: room secrets, passwords
 * (the gateway's MQTT password among them), attendance tokens and bearer credentials. Both
 * processes' loggers use this one list, so a secret redacted on one side is redacted on the other.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  'mqtt_password',
  '*.mqtt_password',
  'mqtt.password',
  'config.mqtt.password',
  'secret',
  '*.secret',
  'room_secret',
  '*.room_secret',
  'roomSecret',
  '*.roomSecret',
  'config.roomSecret',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'req.headers.authorization',
  'headers.authorization',
];

export const REDACTED = '[redacted]';
