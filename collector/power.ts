/**
 * Metered power handed from the SNMP side (PDU outlets mapped to rigs) to the miner poll path. The collector
 * applies the precedence pdu > miner > estimate and always stores which source it used.
 */
export interface MeteredPower {
  watts: number;
  /** Cumulative energy from the outlet's own counter, if it has one (Wh). */
  energy_wh: number | null;
  /** When the meter was read (collector clock, ms). */
  at_ms: number;
  /** e.g. "pdu-a1 outlet 7". */
  meter: string;
}

export interface RigKey {
  rig_id: string;
  name: string | null;
  address: string;
}

export interface PowerMeter {
  /** The freshest metered reading for this rig, or null when no outlet maps to it or the reading is stale. */
  reading(rig: RigKey): MeteredPower | null;
}
