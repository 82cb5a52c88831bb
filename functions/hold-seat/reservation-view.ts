// The reservation row and its API view live with the seat store; the baseline lock hold still imports them
// from here until it moves to bench/.
export {
  type ReservationRow,
  type ReservationView,
  reservationColumns,
  reservationView,
} from '../../shared/seats/reservation.ts';
