/*
 * ITC workbench: deterministic fault injector for the GR740 machine
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_ITC_GR740_FAULT_H
#define HW_ITC_GR740_FAULT_H

#define TYPE_GR740_FAULT_INJECTOR "gr740-fault-injector"

/* Create the injector as child "fault-injector" of @machine. */
void gr740_fault_injector_create(Object *machine);

#endif
