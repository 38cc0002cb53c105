// The CLI's commands, in the order --help lists them (the pipeline's order).
import type { Command } from '../context.js';
import { deployCommand } from './deploy.js';
import { rollbackCommand } from './rollback.js';
import { statusCommand } from './status.js';
import { verifyCommand } from './verify.js';

export const COMMANDS: Command[] = [deployCommand, verifyCommand, rollbackCommand, statusCommand];
