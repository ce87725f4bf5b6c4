/** The page's words in the console's two languages (kept here: they belong to this page only). */
const LABELS: Record<'fr' | 'en', Record<string, string>> = {
  en: {
    title: 'Action plan indicators', print_title: 'Action plan indicators (for print)', from: 'From month', to: 'To month', show: 'Show',
    csv: 'Download CSV', json: 'Download JSON', print: 'Printable view', htcds: 'Case reports (HTCDS CSV)',
    all: 'All regions', by_region: 'By region', indicator: 'Indicator', region: 'Region', breakdown: 'of which',
    prevention: '1. Prevention', protection: '2. Protection', prosecution: '3. Prosecution', partnership: '4. Partnership',
    people_reached_sms: 'People reached by SMS', sms_delivered: 'SMS delivered', ussd_sessions: 'USSD sessions',
    quiz_correct_rate: 'Quiz answers correct', callback_requests: 'Callback requests',
    median_minutes_to_first_call: 'Median time to first call',
    share_called_in_window: "Called inside the caller's window", referrals: 'Referrals', case_reports: 'Case reports',
    cases_referred_police: 'Referred to police or gendarmerie', messages_sent: 'Messages sent', campaigns: 'Campaigns',
    learn_topics_opened: 'Learn topics opened: not recorded (USSD menus visited are not stored)', not_recorded: 'partner not recorded',
    suppressed_note: '"<5": fewer than 5 people; "5+": hidden so that a "<5" cannot be worked out; "-": fewer than 5 to compute over.',
  },
  fr: {
    title: "Indicateurs du plan d'action", print_title: "Indicateurs du plan d'action (impression)", from: 'Du mois', to: 'Au mois',
    show: 'Afficher', csv: 'Télécharger CSV', json: 'Télécharger JSON', print: 'Version imprimable', htcds: 'Signalements (CSV HTCDS)',
    all: 'Toutes régions', by_region: 'Par région', indicator: 'Indicateur', region: 'Région', breakdown: 'dont',
    prevention: '1. Prévention', protection: '2. Protection', prosecution: '3. Poursuites', partnership: '4. Partenariat',
    people_reached_sms: 'Personnes touchées par SMS', sms_delivered: 'SMS remis', ussd_sessions: 'Sessions USSD',
    quiz_correct_rate: 'Réponses justes au quiz', callback_requests: 'Demandes de rappel',
    median_minutes_to_first_call: 'Délai médian du premier appel',
    share_called_in_window: "Appelés dans le créneau de l'appelant", referrals: 'Orientations', case_reports: 'Signalements',
    cases_referred_police: 'Orientés vers la police ou la gendarmerie', messages_sent: 'Messages envoyés', campaigns: 'Campagnes',
    learn_topics_opened: "Thèmes « s'informer » ouverts : non enregistré (les menus USSD visités ne sont pas stockés)",
    not_recorded: 'partenaire non renseigné',
    suppressed_note:
      '« <5 » : moins de 5 personnes ; « 5+ » : masqué pour qu\'un « <5 » ne puisse être déduit ; « - » : moins de 5 pour calculer.',
  },
};

export const labelsFor = (lang: 'fr' | 'en') => (key: string): string => LABELS[lang][key] ?? LABELS.en[key] ?? key;
