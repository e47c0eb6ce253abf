// The one list of the commands the webview may call. `build.rs` includes this file to generate a
// permission per command (the capability grants exactly these), `lib.rs` to register the handlers,
// and a test checks the capability file and the UI's typed client against it.
macro_rules! with_commands {
    ($m:ident) => {
        $m![
            app_info,
            first_paint,
            worklist,
            card,
            check_readout,
            next_card,
            save_readouts,
            produce,
            spoil,
            refuse,
            shipments,
            shipment,
            scan_into_parcel,
            interpret_scan,
            ship,
            parcel_details_check,
            inbox,
            outbox,
            reveal_inbox,
            resend,
            export_messages,
            dead_letters,
            import_dead_letter,
            queue_overview,
            dashboard,
            production_chart,
            get_settings,
            save_settings,
            organisations,
            devices_status,
            parcel_slip,
            period_documents,
            apply_chip,
            log_tail
        ]
    };
}
