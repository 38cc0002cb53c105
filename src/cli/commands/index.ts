// The CLI's commands, in the order --help lists them (the pipeline's order).
import type { Command } from '../context.js';
import { deployCommand } from './deploy.js';
import { migrateCommand } from './migrate.js';
import { planCommand } from './plan.js';
import { rollbackCommand } from './rollback.js';
import { statusCommand } from './status.js';
import { verifyCommand } from './verify.js';

export const COMMANDS: Command[] = [planCommand, migrateCommand, deployCommand, verifyCommand, rollbackCommand, statusCommand];
