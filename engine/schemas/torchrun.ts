// The torchrun command of a prepared PyTorch run, for one node of a multi-node
// job. Pure string work (no Node modules), so the Training panel shows the
// very command `attn train --print-launch` prints.

export interface LaunchPlan {
  python: string;
  /** engine/pytorch/train_worker.py on the nodes. */
  worker: string;
  specFile: string;
  nnodes: number;
  nprocPerNode: number;
  nodeRank: number;
  /** host:port of node 0, reachable from every node. */
  master: string;
  logDir: string;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The torchrun command that runs this run's prepared files on one node of a
 * multi-node job (the same command on each node, with its --node_rank). The
 * run folder must be at the same path on every node (a shared file system).
 * --redirects/--tee/--log_dir avoid torch 1.13's `Std` map error on Python 3.11.
 */
export function torchrunCommand(p: LaunchPlan): string {
  const [addr, port] = p.master.split(':');
  const args = [
    p.python,
    '-m',
    'torch.distributed.run',
    `--nnodes=${p.nnodes}`,
    `--nproc_per_node=${p.nprocPerNode}`,
    `--node_rank=${p.nodeRank}`,
    `--master_addr=${addr}`,
    `--master_port=${port || '29500'}`,
    '--redirects',
    '2',
    '--tee',
    '1',
    '--log_dir',
    p.logDir,
    p.worker,
    p.specFile,
  ];
  return args.map(quote).join(' ');
}
