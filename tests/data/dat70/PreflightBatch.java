// PDFBox Preflight (PDF/A-1b) over the files named on stdin, one verdict per line: "path<TAB>VALID|INVALID code details".
// Run in source-file mode (Java 11+): java -cp preflight.jar:pdfbox2.jar:... PreflightBatch.java < list
import java.io.File;
import org.apache.pdfbox.preflight.PreflightDocument;
import org.apache.pdfbox.preflight.ValidationResult;
import org.apache.pdfbox.preflight.parser.PreflightParser;

public class PreflightBatch {
    public static void main(String[] args) throws Exception {
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, "UTF-8"));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String verdict;
            try {
                PreflightParser parser = new PreflightParser(new File(line));
                parser.parse();
                try (PreflightDocument doc = parser.getPreflightDocument()) {
                    doc.validate();
                    ValidationResult r = doc.getResult();
                    verdict = r.isValid() ? "VALID" : "INVALID " + (r.getErrorsList().isEmpty() ? "" : r.getErrorsList().get(0).getErrorCode() + " " + String.valueOf(r.getErrorsList().get(0).getDetails()).replaceAll("\\s+", " "));
                }
            } catch (Exception e) {
                verdict = "INVALID exception " + e.getClass().getSimpleName();
            }
            System.out.println(line + "\t" + verdict);
            System.out.flush();
        }
    }
}
