// The worklist's view for this window: one object the screen binds to, so it is still there when
// the operator comes back from another screen.
import { loadView } from './worklistView';

export const worklistView = $state(loadView(typeof localStorage === 'undefined' ? undefined : localStorage));
