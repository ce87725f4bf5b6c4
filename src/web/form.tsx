import type { ComponentChildren } from 'preact';

/** The field requireCsrf() (staff/access) reads from a form's body. */
export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** A form that changes something: it always carries the CSRF token, first thing in the form. */
export function PostForm(props: { action: string; csrfToken: string; class?: string; children?: ComponentChildren }) {
  return (
    <form class={props.class} method="post" action={props.action}>
      <CsrfField token={props.csrfToken} />
      {props.children}
    </form>
  );
}

/**
 * A file upload: multipart/form-data is parsed by its own route after the CSRF check has run,
 * so the token rides in the query instead of a field.
 */
export function UploadForm(props: { action: string; csrfToken: string; children?: ComponentChildren }) {
  return (
    <form method="post" action={`${props.action}?_csrf=${encodeURIComponent(props.csrfToken)}`} enctype="multipart/form-data">
      {props.children}
    </form>
  );
}
