import hex.genmodel.GenModel;
import hex.genmodel.MojoModel;
import hex.genmodel.easy.EasyPredictModelWrapper;
import hex.genmodel.easy.RowData;
import hex.genmodel.easy.prediction.*;
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;

/**
 * Scores rows with h2o-genmodel's EasyPredictModelWrapper (the reference scorer of the MOJO
 * and POJO tests). args: "mojo" <zip> or "pojo" <ClassName>; stdin: tab-separated rows with
 * a header row, an empty field is missing; unknown levels become missing. stdout: the model
 * category, then per row the label and class probabilities, the value, or the reconstruction.
 */
public class GenmodelScore {
  public static void main(String[] args) throws Exception {
    GenModel m = args[0].equals("mojo") ? MojoModel.load(args[1])
        : (GenModel) Class.forName(args[1]).getDeclaredConstructor().newInstance();
    EasyPredictModelWrapper w = new EasyPredictModelWrapper(new EasyPredictModelWrapper.Config()
        .setModel(m).setConvertUnknownCategoricalLevelsToNa(true).setConvertInvalidNumbersToNa(true));
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String[] header = in.readLine().split("\t", -1);
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
    out.println(m.getModelCategory());
    String line;
    while ((line = in.readLine()) != null) {
      String[] f = line.split("\t", -1);
      RowData row = new RowData();
      for (int i = 0; i < header.length; i++) if (!f[i].isEmpty()) row.put(header[i], f[i]);
      StringBuilder sb = new StringBuilder();
      switch (m.getModelCategory()) {
        case Binomial: { BinomialModelPrediction p = w.predictBinomial(row);
          sb.append(p.label); for (double v : p.classProbabilities) sb.append('\t').append(v); break; }
        case Multinomial: { MultinomialModelPrediction p = w.predictMultinomial(row);
          sb.append(p.label); for (double v : p.classProbabilities) sb.append('\t').append(v); break; }
        case Regression: { RegressionModelPrediction p = w.predictRegression(row);
          sb.append(p.value); break; }
        case AutoEncoder: { AutoEncoderModelPrediction p = w.predictAutoEncoder(row);
          boolean first = true; for (double v : p.reconstructed) { if (!first) sb.append('\t'); sb.append(v); first = false; } break; }
        default: throw new IllegalStateException("category " + m.getModelCategory());
      }
      out.println(sb);
    }
  }
}
