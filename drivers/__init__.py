"""Device protocols: bytes on a wire to typed messages and back, and nothing of the domain.

``links`` parses the link URLs of the configuration (``serial://``, ``socket://``, ``tcp://``);
``serial_link`` opens a serial port or serial server as an asyncio stream pair; ``uhfreader18``
is the pure wire codec of the UHFReader18 / CF-RU5102 family (and the UHFReader288 dialect) and
``uhfreader18_client`` talks to one such reader, one command at a time, and polls it; ``llrp``
runs an LLRP reader through llrpkit; ``tagread`` is the one value every reader driver yields;
``sounder`` switches the door sounder (a coil of a Modbus TCP I/O module). Drivers import no domain
package and no database (an import-linter contract). See docs/design.md §4.
"""
