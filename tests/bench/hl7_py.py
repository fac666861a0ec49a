#!/usr/bin/python3
"""python3-hl7 side of the HL7 benchmark: hl7.parse plus the same field reads
(PID-3, PID-5, OBR-4) over the same corpus file, one message per line."""
import sys
import time

import hl7

def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    with open(path, 'rb') as f:
        msgs = [line.decode('utf-8') for line in f.read().split(b'\n') if line]
    if limit:
        msgs = msgs[:limit]
    nbytes = sum(len(m.encode('utf-8')) for m in msgs)
    sink = 0
    t0 = time.perf_counter()
    for text in msgs:
        m = hl7.parse(text)
        pid = m.segment('PID')
        sink += len(str(pid[3])) + len(str(pid[5]))
        try:
            sink += len(str(m.segment('OBR')[4]))
        except KeyError:
            pass
    t = time.perf_counter() - t0
    rate = len(msgs) / t
    print('python3-hl7 %s parse + read PID-3, PID-5, OBR-4: %10.0f msg/s %8.2f MB/s (%d messages, %.2f s)'
          % (hl7.__version__ if hasattr(hl7, '__version__') else '', rate, nbytes / t / 1e6, len(msgs), t))
    print('RESULT mode=python msgs_per_s=%.0f mb_per_s=%.2f' % (rate, nbytes / t / 1e6))

if __name__ == '__main__':
    main()
