import type { PageName } from '../page-data.ts';
import { accountArea } from './account.ts';
import { adminPage } from './admin.ts';
import { token } from './api.ts';
import { concertPage, concertsPage } from './catalogue.ts';
import { data, showAlert, tr } from './core.ts';
import { confirmationPage, paymentPage, reservationsPage } from './payment.ts';
import { seatMapPage } from './seat-map.ts';
import { waitingRoomPage } from './waiting-room.ts';

const pages: Record<PageName, () => Promise<void>> = {
  concerts: concertsPage,
  concert: concertPage,
  queue: waitingRoomPage,
  seats: seatMapPage,
  pay: paymentPage,
  confirmation: confirmationPage,
  reservations: reservationsPage,
  admin: adminPage,
};

// A host application that hands the token over to an open page changes only the fragment: no reload.
addEventListener('hashchange', () => {
  if (/(^#|&)token=/.test(location.hash)) {
    token();
    location.reload();
  }
});
accountArea();
pages[data.page]().catch((error: unknown) => {
  console.error(error);
  showAlert(tr('errorGeneric', { code: 'NETWORK' }));
});
