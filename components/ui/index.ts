export { Badge, type BadgeProps, type BadgeTone } from "./Badge";
export {
  Button,
  buttonStyles,
  type ButtonProps,
  type ButtonSize,
  type ButtonVariant,
} from "./Button";
export {
  Card,
  CardBody,
  CardFooter,
  CardHeader,
  type CardBodyProps,
  type CardHeaderProps,
} from "./Card";
export { CopyField, type CopyFieldProps } from "./CopyField";
export { Dialog, type DialogProps, type DialogSize } from "./Dialog";
export { EmptyState, type EmptyStateProps } from "./EmptyState";
export { Field, type FieldControlProps, type FieldProps } from "./Field";
export { Input, type InputProps } from "./Input";
export { Label, type LabelProps } from "./Label";
export { PageHeader, type PageHeaderProps } from "./PageHeader";
export { Select, type SelectProps } from "./Select";
export {
  Spinner,
  SpinnerIcon,
  type SpinnerProps,
  type SpinnerSize,
} from "./Spinner";
export {
  Table,
  TBody,
  TD,
  TH,
  THead,
  TR,
  type TableProps,
  type TDProps,
  type THProps,
  type TRProps,
} from "./Table";
export { Textarea, type TextareaProps } from "./Textarea";
export {
  ToastProvider,
  useToast,
  type ToastApi,
  type ToastOptions,
  type ToastTone,
} from "./Toast";
export * from "./icons";
