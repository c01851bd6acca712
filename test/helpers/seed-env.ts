// The seed's quick-start environment (its docker-compose example), as strings the way Compose passes
// them; NAMESPACE, the seed's 'aarchive', is each test's own.
export const SEED_ENV: Readonly<Record<string, string>> = {
  DEFAULT_SECONDS_BETWEEN_RESTARTS: '15',
  DEFAULT_FRAME_SIZE: '450',
  DEFAULT_MAX_RESTARTS_IN_FRAME: '3',
  DEFAULT_SECONDS_BETWEEN_NEXT_FRAME: '1500',
  DEFAULT_MAX_CHECKS_TO_GIVE_UP: '50',
  DEFAULT_MAX_HISTORIC_ENTRIES: '50',
  DEFAULT_ENABLE_DUPLICATED_SERVICES_REMOVING: 'true',
  DEFAULT_ENABLE_AUTO_HEAL: 'true',
  TZ: 'Europe/Warsaw',
  DEFAULT_NOTIFY_LEVEL: 'debug',
  DEFAULT_NOTIFY_URL: '',
};
