// The CLI's commands, in the order --help lists them (the pipeline's order: doctor first, before anything changes).
import type { Command } from '../context.js';
import { deployCommand } from './deploy.js';
import { doctorCommand } from './doctor.js';
import { migrateCommand } from './migrate.js';
import { planCommand } from './plan.js';
import { restoreCommand } from './restore.js';
import { rollbackCommand } from './rollback.js';
import { statusCommand } from './status.js';
import { verifyCommand } from './verify.js';

export const COMMANDS: Command[] = [
  doctorCommand,
  planCommand,
  migrateCommand,
  deployCommand,
  verifyCommand,
  rollbackCommand,
  restoreCommand,
  statusCommand,
];
