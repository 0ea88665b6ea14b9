/*
 * ITC workbench: fault channel (recorded fault requests on a serial port)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ITC_ITC_FAULT_CHANNEL_H
#define HW_ITC_ITC_FAULT_CHANNEL_H

#include "chardev/char.h"

#define TYPE_ITC_FAULT_CHANNEL "itc-fault-channel"

/* Create the channel as child "fault-channel" of @machine, reading @chr. */
void itc_fault_channel_create(Object *machine, Chardev *chr);

#endif
