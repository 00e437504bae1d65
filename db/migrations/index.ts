// Migrations are listed here explicitly (no folder scanning under ESM), oldest first.
// Create one with `npm run migration:create -- <name>`.
import type { Migration } from 'kysely/migration';
import * as core from './20261123_0001_core.js';
import * as m20261123154640 from './20261123_154640_figure_rebuilds.js';
import * as m20261124000500 from './20261124_000500_user_days_open.js';
import * as m20261124001000 from './20261124_001000_datamart.js';
import * as m20261124004000 from './20261124_004000_channels.js';
import * as m20261124006000 from './20261124_006000_hot_path_keys.js';
import * as m20261203100000 from './20261203_100000_calendars.js';
import * as m20261203200000 from './20261203_200000_device_values_fit.js';
import * as m20261203200100 from './20261203_200100_session_file_errors.js';
import * as m20261203300000 from './20261203_300000_push_terminals.js';
import * as m20261204100000 from './20261204_100000_users_devices_never_deleted.js';
import * as m20261204100100 from './20261204_100100_datamart_day_stamp.js';
import * as m20261204200000 from './20261204_200000_sync_status_notify.js';
import * as m20261205200000 from './20261205_200000_session_import_queue.js';
import * as m20261206100000 from './20261206_100000_auth_known_sources.js';
import * as m20261206110000 from './20261206_110000_push_firmware.js';
import * as m20261206120000 from './20261206_120000_push_session_school.js';
import * as m20261206130000 from './20261206_130000_push_address_binding.js';
import * as m20261207000100 from './20261207_000100_held_punches.js';
import * as m20261207100000 from './20261207_100000_school_day.js';
import * as m20261207200000 from './20261207_200000_schema_compatibility.js';
import * as m20261207200100 from './20261207_200100_admin_actions.js';
import * as m20261207200200 from './20261207_200200_data_protection.js';
import * as m20261207300000 from './20261207_300000_held_punches_v4.js';
import * as m20261207400000 from './20261207_400000_school_admin_audit_search.js';
import * as m20261207500000 from './20261207_500000_school_admin.js';
import * as m20261208100000 from './20261208_100000_school_keys.js';
import * as m20261208200000 from './20261208_200000_partitions.js';
import * as m20261208300000 from './20261208_300000_rejection_detail.js';
import * as m20261209100000 from './20261209_100000_push_serials.js';

export const migrations: Record<string, Migration> = {
  '20261123_0001_core': core,
  '20261123_154640_figure_rebuilds': m20261123154640,
  '20261124_000500_user_days_open': m20261124000500,
  '20261124_001000_datamart': m20261124001000,
  '20261124_004000_channels': m20261124004000,
  '20261124_006000_hot_path_keys': m20261124006000,
  '20261203_100000_calendars': m20261203100000,
  '20261203_200000_device_values_fit': m20261203200000,
  '20261203_200100_session_file_errors': m20261203200100,
  '20261203_300000_push_terminals': m20261203300000,
  '20261204_100000_users_devices_never_deleted': m20261204100000,
  '20261204_100100_datamart_day_stamp': m20261204100100,
  '20261204_200000_sync_status_notify': m20261204200000,
  '20261205_200000_session_import_queue': m20261205200000,
  '20261206_100000_auth_known_sources': m20261206100000,
  '20261206_110000_push_firmware': m20261206110000,
  '20261206_120000_push_session_school': m20261206120000,
  '20261206_130000_push_address_binding': m20261206130000,
  '20261207_000100_held_punches': m20261207000100,
  '20261207_100000_school_day': m20261207100000,
  '20261207_200000_schema_compatibility': m20261207200000,
  '20261207_200100_admin_actions': m20261207200100,
  '20261207_200200_data_protection': m20261207200200,
  '20261207_300000_held_punches_v4': m20261207300000,
  '20261207_400000_school_admin_audit_search': m20261207400000,
  '20261207_500000_school_admin': m20261207500000,
  '20261208_100000_school_keys': m20261208100000,
  '20261208_200000_partitions': m20261208200000,
  '20261208_300000_rejection_detail': m20261208300000,
  '20261209_100000_push_serials': m20261209100000,
};
