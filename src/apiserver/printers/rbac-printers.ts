// Tables of RoleBinding and ClusterRoleBinding. Role and ClusterRole have no
// printer in Kubernetes and use the default NAME / CREATED AT table.
import type { KubeObject } from '../../api/object.js';
import { timestampSince } from './human-duration.js';
import { ageColumn, column, nameColumn, wideColumn, type TablePrinter } from './table.js';

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface BindingJson {
  roleRef?: { kind?: string; name?: string };
  subjects?: Subject[] | null;
}

/** rbac.SubjectsStrings: users, groups and "namespace/name" service accounts. */
function subjectColumns(subjects: Subject[] | null | undefined): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const subject of subjects ?? []) {
    if (subject.kind === 'ServiceAccount') serviceAccounts.push(`${subject.namespace ?? ''}/${subject.name ?? ''}`);
    else if (subject.kind === 'User') users.push(subject.name ?? '');
    else if (subject.kind === 'Group') groups.push(subject.name ?? '');
  }
  return [users.join(', '), groups.join(', '), serviceAccounts.join(', ')];
}

function bindingPrinter(what: 'roleBinding' | 'clusterRoleBinding'): TablePrinter {
  return {
    columnDefinitions: [
      nameColumn,
      column('Role', { doc: what === 'roleBinding' ? 'RoleBinding.roleRef' : 'ClusterRoleBinding.roleRef' }),
      ageColumn,
      wideColumn('Users', { description: `Users in the ${what}` }),
      wideColumn('Groups', { description: `Groups in the ${what}` }),
      wideColumn('ServiceAccounts', { description: `ServiceAccounts in the ${what}` }),
    ],
    printRow(object: KubeObject, now: Date) {
      const binding = object as BindingJson;
      return {
        cells: [
          object.metadata.name ?? '',
          `${binding.roleRef?.kind ?? ''}/${binding.roleRef?.name ?? ''}`,
          timestampSince(object.metadata.creationTimestamp, now),
          ...subjectColumns(binding.subjects),
        ],
      };
    },
  };
}

export const roleBindingPrinter = bindingPrinter('roleBinding');
export const clusterRoleBindingPrinter = bindingPrinter('clusterRoleBinding');
