// The dashboard's views, in tab order. One module per view; add a line to add a tab (and its
// title to each locales/ file).
import type { View } from '../view.js';
import { alertsView } from './alerts.js';
import { attentionView } from './attention.js';
import { calendarView } from './calendar.js';
import { datamartView } from './datamart.js';
import { devicesView } from './devices.js';
import { figuresView } from './figures.js';
import { flagsView } from './flags.js';
import { heldView } from './held.js';
import { overviewView } from './overview.js';
import { peopleView } from './people.js';
import { pupilsView } from './pupils.js';
import { rebuildView } from './rebuild.js';
import { sessionsView } from './sessions.js';
import { terminalsView } from './terminals.js';

export const VIEWS: View[] = [
  overviewView, figuresView, pupilsView, alertsView, devicesView, peopleView, calendarView, terminalsView, heldView, attentionView, flagsView, sessionsView, rebuildView, datamartView,
];
